"""Password hashing (argon2id) and the password policy.

Hashing is deliberately slow and memory-hungry, so it never runs on the event loop and at most
`password_hash_concurrency` hashes run at once: a login storm queues instead of exhausting
memory or stalling other requests. Every verification path computes a hash, including for
unknown usernames (`verify_or_dummy`), so timing does not reveal whether an account exists.

Policy (NIST SP 800-63B rev. 4, OWASP ASVS 5 V6.2): at least 15 characters, at most 1024,
no composition rules, no truncation (argon2 hashes every byte), common passwords rejected.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import cache
from importlib import resources

from passlib.context import CryptContext

from app import metrics

MIN_LENGTH = 15
MAX_LENGTH = 1024


class PasswordHasher:
    def __init__(
        self, *, time_cost: int, memory_kib: int, parallelism: int, concurrency: int
    ) -> None:
        self.context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__time_cost=time_cost,
            argon2__memory_cost=memory_kib,
            argon2__parallelism=parallelism,
        )
        self._slots = threading.BoundedSemaphore(concurrency)
        self._dummy_hash = self.context.hash("chronicle dummy password for timing")

    def hash(self, password: str) -> str:
        with self._slots:
            metrics.PASSWORD_HASHES.inc()
            return str(self.context.hash(_normalise(password)))

    def verify(self, password: str, stored: str) -> tuple[bool, str | None]:
        """(valid, new hash when the stored one used older parameters)."""
        with self._slots:
            metrics.PASSWORD_HASHES.inc()
            ok, new_hash = self.context.verify_and_update(_normalise(password), stored)
        return bool(ok), new_hash

    def verify_or_dummy(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        if stored is None:
            self.verify(password, self._dummy_hash)
            return False, None
        return self.verify(password, stored)


def _normalise(password: str) -> str:
    # NFKC so the same passphrase typed on two keyboards is the same password (NIST 800-63B).
    return unicodedata.normalize("NFKC", password)


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("app.security").joinpath("common_passwords.txt").read_text()
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def _is_repetition(text: str) -> bool:
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            unit = text[:size]
            return size <= 4 or unit in _common_passwords()
    return False


_RUNS = ("0123456789" * 4, "abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiopasdfghjklzxcvbnm" * 2)


def _is_sequence(text: str) -> bool:
    """Runs along the alphabet, the digits or the keyboard, either way round."""
    compact = "".join(ch for ch in text if ch.isalnum())
    if len(compact) < 8 or len(set(compact)) == 1:
        return len(set(compact)) == 1 and len(compact) >= 8
    return any(compact in run or compact[::-1] in run for run in _RUNS)


def _predictable(lowered: str) -> bool:
    letters = "".join(ch for ch in lowered if ch.isalpha())
    common = _common_passwords()
    return (
        lowered in common or letters in common or _is_repetition(lowered) or _is_sequence(lowered)
    )


def passcode_problems(passcode: str) -> list[str]:
    """Why a share-link passcode is refused (its length is checked by the schema).

    A passcode guards a link that may already be in the wrong hands, so the password list
    applies: guessing is throttled, but a common word would fall within the allowed guesses.
    """
    lowered = _normalise(passcode).casefold()
    if _predictable(lowered) or "chronicle" in lowered:
        return ["This passcode is too common or predictable; choose a less obvious one."]
    return []


def password_problems(password: str, *, username: str | None = None) -> list[str]:
    """Why a new password is refused; an empty list means it is acceptable."""
    normalised = _normalise(password)
    length = len(normalised)
    if length < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters; a few words together work well."]
    if length > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    lowered = normalised.casefold()
    if _predictable(lowered):
        return ["This password is too common or predictable; choose a less obvious phrase."]
    if "chronicle" in lowered or (
        username and len(username) >= 4 and username.casefold() in lowered
    ):
        return ["Do not use your username or the name of this service in your password."]
    return []
