"""The blob store: where evidence ciphertext lives, behind one small interface.

Only ciphertext reaches a store; encryption happens before (see app.blobs.encrypted).

Writes are resumable uploads that keep no state in the process: `start_upload` returns an
UploadState, each `append` takes the last saved state and returns the next one, and the caller
saves it in its database row (after `flush`, if it appended with `durable=False` to save
fsyncs: a saved state only ever counts bytes that are durable). Any process can continue an
upload from the saved state. A call that fails (or whose new state is never saved) leaves the
previous state valid: bytes it may have written past `state.size` are ignored and overwritten
by the next append. Callers must not append to one upload from two requests at once (the tus
layer holds a row lock).

Uploads in progress live in a separate namespace from complete blobs; a blob appears under its
key only when `complete` has made it whole, so nothing half-written can be mistaken for one.
Every failure of the backing store surfaces as BlobStoreError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# Path-like keys of plain segments; no segment may start with "." (reserved for uploads).
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.=-]*(/[A-Za-z0-9_][A-Za-z0-9_.=-]*)*")
MAX_KEY_LENGTH = 512


class BlobStoreError(RuntimeError):
    """The store failed or refused an operation; a write that raised left no complete blob."""


class BlobNotFound(BlobStoreError):
    """No complete blob, or no upload in progress, under that key."""


@dataclass(frozen=True)
class UploadState:
    """Where a resumable upload stands; small and JSON-serialisable, saved by the caller.

    `size` counts the bytes durably appended. The S3 store also records its multipart upload
    id, the ETags of the parts uploaded so far, and the start offsets of the small staged
    objects that follow them; the local store needs none of those.
    """

    key: str
    size: int = 0
    upload_id: str = ""
    parts: tuple[str, ...] = ()
    staged: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "size": self.size,
            "upload_id": self.upload_id,
            "parts": list(self.parts),
            "staged": list(self.staged),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> UploadState:
        key, upload_id = data.get("key"), data.get("upload_id")
        parts, staged = data.get("parts"), data.get("staged")
        if not isinstance(key, str) or not isinstance(upload_id, str):
            raise ValueError("malformed upload state")
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise ValueError("malformed upload state")
        if not isinstance(staged, list):
            raise ValueError("malformed upload state")
        return cls(
            key=check_key(key),
            size=_count(data.get("size")),
            upload_id=upload_id,
            parts=tuple(parts),
            staged=tuple(_count(offset) for offset in staged),
        )


def _count(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError("malformed upload state")


@dataclass(frozen=True)
class BlobEntry:
    """One key found by `list_keys`: a complete blob, or an upload still in progress."""

    key: str
    modified: datetime
    complete: bool


class BlobStore(Protocol):
    def start_upload(self, key: str) -> UploadState:
        """Begin an upload to `key` (replacing any earlier upload in progress there)."""
        ...

    def append(
        self, state: UploadState, chunks: Iterable[bytes], *, durable: bool = True
    ) -> UploadState:
        """Append `chunks` after `state.size` bytes; return the new state.

        Durably, unless `durable` is false: then the bytes may still be lost in a crash until
        `flush` has been called with the returned state (or a later one), so a caller saves
        that state only after `flush`. An exception from `chunks` itself propagates unchanged;
        the old state stays valid.
        """
        ...

    def flush(self, state: UploadState) -> None:
        """Make the first `state.size` bytes of the upload durable (after non-durable appends)."""
        ...

    def complete(self, state: UploadState, tail: bytes = b"") -> int:
        """Append `tail`, then make the upload the blob at its key; return the blob's size.

        Idempotent: repeating it with the same state after it succeeded returns the same size.
        """
        ...

    def abort(self, state: UploadState) -> None:
        """Discard an upload in progress and everything staged for it (idempotent)."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream the stored bytes [start, end) (clamped to the blob's size), in chunks.

        Raises BlobNotFound at once, not on the first iteration, if there is no such blob.
        """
        ...

    def size(self, key: str) -> int:
        """Size in bytes of the complete blob at `key`."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob at `key` and any upload in progress for it (idempotent)."""
        ...

    def list_keys(self, prefix: str = "") -> Iterator[BlobEntry]:
        """Every complete blob and upload in progress whose key starts with `prefix`."""
        ...

    def check(self) -> None:
        """Raise BlobStoreError unless the store is reachable and writable (for /readyz)."""
        ...


def check_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(f"invalid blob key {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A key prefix for listing: any start of a valid key."""
    if prefix and not _KEY.fullmatch(prefix.removesuffix("/")):
        raise ValueError(f"invalid blob key prefix {prefix!r}")
    return prefix


def check_range(start: int, end: int | None) -> None:
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range [{start}, {end})")
