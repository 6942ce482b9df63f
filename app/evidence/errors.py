"""The ways an evidence upload or record is refused, as problem+json errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.blobs import BlobStoreError
from app.errors import AppError


class QuotaExceeded(AppError):
    status, type, title = 413, "quota-exceeded", "Storage quota exceeded"


class FileTooLarge(AppError):
    status, type, title = 413, "payload-too-large", "File too large"


class UnsupportedMedia(AppError):
    status, type, title = 415, "unsupported-media-type", "Unsupported media type"


class EvidenceDeleted(AppError):
    status, type, title = 410, "deleted", "Deleted"


class UploadExpired(AppError):
    status, type, title = 410, "upload-expired", "Upload expired"


class ChecksumMismatch(AppError):
    status, type, title = 460, "checksum-mismatch", "Checksum mismatch"


class UploadBusy(AppError):
    status, type, title = 409, "upload-busy", "Another request is writing to this upload"


class OffsetMismatch(AppError):
    status, type, title = 409, "offset-mismatch", "Upload-Offset does not match"


class IntegrityFailure(AppError):
    """A stored file failed authentication: it was altered. Never served."""

    status, type, title = 500, "evidence-integrity", "The stored file failed its integrity check"


class StoreUnavailable(AppError):
    status, type, title = 503, "store-unavailable", "The evidence store is unavailable"


@contextmanager
def store_failures() -> Iterator[None]:
    """A failing blob store is a 503 that says nothing was kept (the request left no trace)."""
    try:
        yield
    except BlobStoreError as exc:
        raise StoreUnavailable(
            "The evidence store failed; nothing of this request was kept. Try again.",
            headers={"Retry-After": "5"},
        ) from exc
