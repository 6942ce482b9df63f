"""POST /v1/evidence: a small file and its fields in one multipart request.

The body is read on the event loop first (app.evidence.transfer: it is small, the body limit
bounds it, and a slow client holds no thread); then, in a transfer thread, the file part
streams through the encrypted writer, which hashes it as it writes (one pass), while its head
is sniffed as soon as it is in, so a disallowed type is refused before the rest is stored.
Then one short transaction records it. A client that sends its own `id` may repeat the
request: the same file under the same id returns the original, a different one is 409. On any
failure the stored blob is removed, so nothing of a refused or broken request remains.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from app.blobs import BlobStoreError, encrypted
from app.context import AppContext
from app.crypto.fields import DataKey
from app.db import write_session
from app.errors import id_in_use
from app.evidence import media, sealing, service
from app.evidence.body import BodyIncomplete
from app.evidence.completion import inspect_head
from app.evidence.errors import FileTooLarge, UnsupportedMedia
from app.evidence.links import require_incidents
from app.evidence.multipart import FormReader
from app.models import Evidence


class _Head:
    """Counts the file's bytes and sniffs its head as soon as it has it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.head = bytearray()
        self.kind: tuple[media.MediaType, media.CaptureMetadata] | None = None

    def watch(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self.size += len(piece)
            if self.size > self.limit:
                raise FileTooLarge(
                    f"POST /v1/evidence takes files up to {self.limit} bytes; use tus."
                )
            if self.kind is None:
                self.head += piece[: media.HEAD_BYTES - len(self.head)]
                if len(self.head) >= media.HEAD_BYTES:
                    self.kind = inspect_head(bytes(self.head))
            yield piece
        if self.kind is None:
            self.kind = inspect_head(bytes(self.head))


@dataclass(frozen=True)
class Stored:
    row: Evidence
    created: bool


def store_form(
    ctx: AppContext,
    key: DataKey,
    boundary: bytes,
    batches: Iterator[bytes],
    disconnected: Callable[[], bool],
) -> Stored:
    form = FormReader(boundary)
    pieces = form.file_data(batches)
    first = next(pieces, None)  # parses up to the file's first bytes: `id` is known by then
    if first is None:
        raise UnsupportedMedia("An empty file is not evidence.")
    evidence_id = form.evidence_id or uuid.uuid4()
    file_key, wrapped = sealing.new_wrapped_file_key(key, evidence_id)
    aad = sealing.stream_aad(key.account_id, evidence_id)
    head = _Head(ctx.settings.max_multipart_bytes)
    blob_key = sealing.new_blob_key(key.account_id, evidence_id)
    finished = encrypted.write_stream(
        ctx.blobs, blob_key, file_key, aad, head.watch(itertools.chain([first], pieces))
    )
    try:
        if disconnected():
            raise BodyIncomplete("The body ended early; nothing of it was kept.")
        assert head.kind is not None
        kind, capture = head.kind
        new = service.NewEvidence(
            evidence_id=evidence_id,
            blob=finished,
            media=kind,
            capture=capture,
            file_name=form.file_name or "",
            caption=form.caption,
            incident_ids=form.incident_ids,
            file_key_enc=wrapped,
        )
        stored = _record(ctx, key, new, replayable=form.evidence_id is not None)
    except BaseException:
        _drop(ctx, blob_key)
        raise
    if not stored.created:
        _drop(ctx, blob_key)  # a repeat: the original keeps its own blob
    return stored


def _record(ctx: AppContext, key: DataKey, new: service.NewEvidence, *, replayable: bool) -> Stored:
    try:
        with write_session(ctx.sessionmaker) as session, session.begin():
            if replayable:
                existing = session.get(Evidence, (key.account_id, new.evidence_id))
                if existing is not None:
                    if existing.sha256 != new.blob.sha256_hex or existing.deleted_at is not None:
                        raise id_in_use()
                    return Stored(existing, created=False)
            require_incidents(session, key.account_id, new.incident_ids)
            row = service.record(session, key, new, quota=ctx.settings.account_quota_bytes)
            return Stored(row, created=True)
    except IntegrityError as exc:  # the same id, recorded at this moment by this account
        raise id_in_use() from exc


def _drop(ctx: AppContext, blob_key: str) -> None:
    with suppress(BlobStoreError):
        ctx.blobs.delete(blob_key)
