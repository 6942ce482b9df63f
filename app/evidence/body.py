"""What a PATCH body must satisfy before any of it counts, checked as it arrives.

`BodyChecks.start()` follows one body: `see` each batch as it comes off the network (on the
event loop: a body longer than the upload has room for is refused before it is stored),
`hash` it where it is encrypted (in the transfer thread), and `finish` once it has ended. With
an `Upload-Checksum` (sha1 or sha256), a body whose digest differs, or that was cut off (a part
of a body cannot be checked against the whole body's checksum), is refused, and the writer
keeps nothing of it.
Without a checksum, the bytes that arrived before a client went away are kept: tus resumes
from there.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from app.errors import AppError
from app.evidence.errors import ChecksumMismatch, FileTooLarge
from app.evidence.tus import Checksum


class BodyIncomplete(AppError):
    status, type, title = 400, "incomplete-body", "The body was cut off"


@dataclass(frozen=True)
class BodyChecks:
    room: int
    checksum: Checksum | None

    def start(self) -> BodyCheck:
        return BodyCheck(self)


class BodyCheck:
    """The checks of one body, batch by batch (see the module docstring)."""

    def __init__(self, checks: BodyChecks) -> None:
        self.checks = checks
        self.received = 0
        checksum = checks.checksum
        self._digest = (
            hashlib.new(checksum.algorithm, usedforsecurity=False) if checksum is not None else None
        )

    def see(self, batch: bytes) -> None:
        self.received += len(batch)
        if self.received > self.checks.room:
            raise FileTooLarge(f"Upload-Length leaves room for {self.checks.room} more bytes.")

    def hash(self, batch: bytes) -> None:
        if self._digest is not None:
            self._digest.update(batch)

    def finish(self, *, cut_short: bool) -> None:
        if self._digest is None or self.checks.checksum is None:
            return
        if cut_short:
            raise BodyIncomplete("The body ended early; nothing of it was kept.")
        if not hmac.compare_digest(self._digest.digest(), self.checks.checksum.digest):
            raise ChecksumMismatch("Upload-Checksum does not match; nothing was kept.")
