"""What a PATCH body must satisfy before any of it counts, checked as it streams.

`BodyChecks.check` wraps the body's batches on their way to the encrypted writer, in the
worker thread. It raises (so the writer keeps nothing of this request) when the body is
longer than the upload has room for, when the upload's lease could not be renewed, or, with
an `Upload-Checksum`, when the body's SHA-256 differs or the body was cut off (a part of a
body cannot be checked against the whole body's checksum). Without a checksum, the bytes that
arrived before a client went away are kept: tus resumes from there.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.errors import AppError
from app.evidence.errors import ChecksumMismatch, FileTooLarge, UploadBusy


class BodyIncomplete(AppError):
    status, type, title = 400, "incomplete-body", "The body was cut off"


@dataclass(frozen=True)
class BodyChecks:
    room: int
    checksum: bytes | None

    def check(
        self,
        batches: Iterator[bytes],
        disconnected: Callable[[], bool],
        *,
        renew: Callable[[], bool],
        renew_every: float,
    ) -> Iterator[bytes]:
        digest = hashlib.sha256() if self.checksum is not None else None
        received = 0
        renewed = time.monotonic()
        for batch in batches:
            received += len(batch)
            if received > self.room:
                raise FileTooLarge(f"Upload-Length leaves room for {self.room} more bytes.")
            if digest is not None:
                digest.update(batch)
            # Renewed before the batch is written, never after the lease could have run out.
            if time.monotonic() - renewed > renew_every:
                if not renew():
                    raise UploadBusy("This upload was taken over by another request.")
                renewed = time.monotonic()
            yield batch
        if digest is not None and self.checksum is not None:
            if disconnected():
                raise BodyIncomplete("The body ended early; nothing of it was kept.")
            if not hmac.compare_digest(digest.digest(), self.checksum):
                raise ChecksumMismatch("Upload-Checksum does not match; nothing was kept.")


class Portions:
    """Cuts a stream of batches into portions of about `size` bytes, one after another."""

    def __init__(self, batches: Iterator[bytes]) -> None:
        self._batches = batches
        self.exhausted = False

    def next_portion(self, size: int) -> Iterator[bytes]:
        taken = 0
        for batch in self._batches:
            yield batch
            taken += len(batch)
            if taken >= size:
                return
        self.exhausted = True
