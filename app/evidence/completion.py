"""Turning a whole upload into evidence: verify, sniff, record; or refuse and remove it.

Runs in a worker thread, after the last byte is saved and while the request still holds the
upload's lease. The order matters for what a crash leaves behind:
1. the blob is completed, and its SHA-256 taken: kept running over the upload's requests
   when they all reached this process (app.evidence.hashing), otherwise by decrypting the
   stored file once end to end (app.blobs.encrypted.finish), which also proves it whole;
2. its head is sniffed against the allow-list and its EXIF read;
3. one transaction records the evidence row and its `evidence.added` event and marks the
   upload complete, or nothing happens.
Until step 3 commits the upload stays at its full offset and unfinished, so a retried PATCH
or a HEAD repeats the steps (each is idempotent) instead of losing the file. A file that is
refused (type or quota) is removed with its upload, so nothing of it is recorded.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import suppress

from app.blobs import BlobStoreError, encrypted, remove_blob
from app.context import AppContext
from app.crypto.fields import DataKey
from app.crypto.stream import StreamCorrupted
from app.db import write_session
from app.evidence import hashing, media, sealing, service, uploads
from app.evidence.errors import IntegrityFailure, QuotaExceeded, UnsupportedMedia
from app.models import Evidence

log = logging.getLogger("app.evidence")


def inspect_head(head: bytes) -> tuple[media.MediaType, media.CaptureMetadata]:
    """The allowed media type of a file starting with `head`, and its capture metadata."""
    sniffed = media.sniff(head)
    if sniffed is None:
        raise UnsupportedMedia(
            f"This kind of file is not accepted. Accepted: {media.ACCEPTED_TEXT}."
        )
    return sniffed, media.extract_metadata(head, sniffed)


def read_head(ctx: AppContext, blob_key: str, file_key: bytes, aad: bytes, size: int) -> bytes:
    end = min(size, media.HEAD_BYTES)
    return b"".join(encrypted.read_plaintext(ctx.blobs, blob_key, file_key, aad, 0, end))


def complete_upload(
    ctx: AppContext, key: DataKey, held: uploads.Claim, state: encrypted.WriterState
) -> Evidence:
    """Steps 1-3 of the module docstring; the refusals remove the upload and its blob."""
    factory, settings = ctx.sessionmaker, ctx.settings
    uploads.renew(factory, held, settings.upload_lease_seconds)
    file_key = sealing.unwrap_file_key(key, held.upload_id, held.file_key_enc)
    aad = sealing.stream_aad(key.account_id, held.upload_id)
    try:
        known = hashing.final(held.upload_id, state)
        finished = encrypted.finish(ctx.blobs, state, file_key, aad, sha256_hex=known)
        kind, capture = inspect_head(read_head(ctx, state.blob_key, file_key, aad, finished.size))
        details = sealing.open_details(key, sealing.UPLOADS_TABLE, held.upload_id, held.details_enc)
        new = service.NewEvidence(
            evidence_id=held.upload_id,
            blob=finished,
            media=kind,
            capture=capture,
            file_name=details.file_name,
            caption=details.caption,
            incident_ids=held.incident_ids,
            file_key_enc=held.file_key_enc,
        )
        with write_session(factory) as session, session.begin():
            upload = uploads.lock_held(session, held)
            row = service.record(session, key, new, quota=settings.account_quota_bytes)
            uploads.mark_completed(upload)
        hashing.forget(held.upload_id)
        return row
    except StreamCorrupted as exc:
        log.error(
            "evidence upload failed its integrity check", extra={"upload": str(held.upload_id)}
        )
        _remove(ctx, held, state.blob_key)
        raise IntegrityFailure("What was stored for this upload does not decrypt.") from exc
    except (UnsupportedMedia, QuotaExceeded):
        _remove(ctx, held, state.blob_key)
        raise


def _remove(ctx: AppContext, held: uploads.Claim, blob_key: str) -> None:
    hashing.forget(held.upload_id)
    uploads.discard(ctx.sessionmaker, held)
    # If the store fails now, the cleanup command removes the blob later (nothing refers to it).
    with suppress(BlobStoreError):
        ctx.blobs.delete(blob_key)


def remove_evidence_blob(
    ctx: AppContext, blob_key: str, account_id: uuid.UUID, evidence_id: uuid.UUID
) -> None:
    """Remove a deleted evidence's blob and note it is gone. Failures wait for the cleanup."""
    if remove_blob(ctx.blobs, blob_key):
        with write_session(ctx.sessionmaker) as session, session.begin():
            service.forget_blob(session, account_id, evidence_id, blob_key)


def remove_upload_blob(ctx: AppContext, state: encrypted.WriterState | None, blob_key: str) -> None:
    """Remove what an unfinished upload stored. Failures wait for the cleanup command."""
    try:
        if state is not None:
            encrypted.abort(ctx.blobs, state)
        ctx.blobs.delete(blob_key)
    except BlobStoreError:
        log.warning("upload removal deferred to the cleanup command")
