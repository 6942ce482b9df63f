"""Password hashing (argon2id), held by the app context for its lifetime.

Hashing is deliberately slow and memory-hungry, so it never runs on the event loop and at most
`password_hash_concurrency` hashes run at once: a login storm queues instead of exhausting
memory or stalling other requests. Every verification path computes a hash, including for
unknown usernames (`verify_or_dummy`), so timing does not reveal whether an account exists.
The policy a new password must meet is app.security.passwords.
"""

from __future__ import annotations

import threading
import unicodedata

from passlib.context import CryptContext

from app import metrics


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
            return str(self.context.hash(normalise(password)))

    def verify(self, password: str, stored: str) -> tuple[bool, str | None]:
        """(valid, new hash when the stored one used older parameters)."""
        with self._slots:
            metrics.PASSWORD_HASHES.inc()
            ok, new_hash = self.context.verify_and_update(normalise(password), stored)
        return bool(ok), new_hash

    def verify_or_dummy(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        if stored is None:
            self.verify(password, self._dummy_hash)
            return False, None
        return self.verify(password, stored)


def normalise(password: str) -> str:
    # NFKC so the same passphrase typed on two keyboards is the same password (NIST 800-63B).
    return unicodedata.normalize("NFKC", password)
