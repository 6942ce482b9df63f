"""What an export is made of besides the summary: exhibits and the chain head.

Exhibits are validated on construction (an exhibit number that is safe in a file name, a
lowercase SHA-256, aware times), so the PDF and the bundle never have to guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

_EXHIBIT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,10}$")
MAX_NAME = 80


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Exhibit:
    number: str  # e.g. "EX-001": letters, digits and hyphens
    evidence_id: UUID
    caption: str
    media_type: str
    size: int
    sha256: str  # lowercase hex, as recorded on receipt
    captured_at: datetime | None  # when the victim says it was taken (from its metadata)
    received_at: datetime  # the server's clock when the upload completed
    file_name: str  # as the victim's device named it; only ever printed or made safe
    incident_id: UUID | None = None  # the incident it was attached to, if any

    def __post_init__(self) -> None:
        if not _EXHIBIT_NUMBER.match(self.number):
            raise ValueError("an exhibit number is 1-32 letters, digits and hyphens")
        if not _SHA256.match(self.sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        if self.size < 0:
            raise ValueError("size cannot be negative")
        object.__setattr__(self, "received_at", _aware("received_at", self.received_at))
        if self.captured_at is not None:
            object.__setattr__(self, "captured_at", _aware("captured_at", self.captured_at))

    @property
    def bundle_path(self) -> str:
        """Where the file goes in a bundle: `evidence/EX-001-photo.jpg`."""
        return f"evidence/{self.number}-{safe_file_name(self.file_name)}"


@dataclass(frozen=True)
class ChainHead:
    length: int  # number of events
    hash: str  # the last event's hash; 64 zeros for an empty chain


def safe_file_name(name: str) -> str:
    """ASCII letters, digits, `.`, `_`, `-` only; no leading dot; never empty; at most 80.

    Path separators, `..`, drive letters, control characters and the like cannot survive, so
    the name is safe in a zip (no zip-slip), in `sha256sum` lists and on any file system. A
    short alphanumeric extension is kept.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem, dot, extension = ascii_name.rpartition(".")
    if not dot or not _EXTENSION.match(extension):
        stem, extension = ascii_name, ""
    room = MAX_NAME - (len(extension) + 1 if extension else 0)
    stem = _UNSAFE.sub("_", stem).strip("._-")[:room].rstrip("._-") or "file"
    return f"{stem}.{extension}" if extension else stem
