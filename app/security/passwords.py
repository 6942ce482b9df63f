"""The password policy (the hashing is app.crypto.passwords).

Policy (NIST SP 800-63B rev. 4, OWASP ASVS 5 V6.2): at least 15 characters, at most 1024,
no composition rules, no truncation (argon2 hashes every byte), common passwords rejected.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from app.crypto.passwords import normalise

MIN_LENGTH = 15
MAX_LENGTH = 1024


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
    lowered = normalise(passcode).casefold()
    if _predictable(lowered) or "chronicle" in lowered:
        return ["This passcode is too common or predictable; choose a less obvious one."]
    return []


def password_problems(password: str, *, username: str | None = None) -> list[str]:
    """Why a new password is refused; an empty list means it is acceptable."""
    normalised = normalise(password)
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
