"""Serving an evidence file: ranges, headers, and failing closed on altered storage.

Every byte sent has passed AES-GCM authentication (app.blobs.encrypted.read_plaintext). The
stored size is checked against the recorded one before anything is sent, and a segment that
fails later aborts the response: the client sees a broken transfer (short of its
Content-Length), never a complete download of altered bytes. Both cases are logged as errors.

`respond` is the one download response: the owner's (app.evidence.routes) and a caseworker's
(app.sharing.clients.data_routes) differ only in how the record is found and audited.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Header, Request
from fastapi.responses import StreamingResponse

from app.blobs import BlobNotFound, BlobStoreError, encrypted
from app.context import AppContext
from app.crypto.fields import DataKey
from app.crypto.stream import StreamCorrupted, ciphertext_size
from app.errors import PROBLEM_CONTENT_TYPE, AppError, ServiceUnavailable
from app.evidence import sealing, service
from app.evidence.errors import IntegrityFailure
from app.evidence.transfer import (
    ReleasingStream,
    first_batch,
    in_transfer_thread,
    send_batches,
    take_transfer_slot,
)
from app.models import Evidence

log = logging.getLogger("app.evidence")
RangeHeader = Annotated[str | None, Header(alias="Range", max_length=200)]
IfRangeHeader = Annotated[str | None, Header(alias="If-Range", max_length=200)]
_BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
_PROBLEM = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
# The download's answers besides the problems each route lists (for `responses=`).
CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file as received, decrypted as it is sent.", "content": _BINARY},
    206: {"description": "The requested byte range.", "content": _BINARY},
    416: {"description": "Range not satisfiable", "content": _PROBLEM},
}
_RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ ()-]+")


class RangeNotSatisfiable(AppError):
    status, type, title = 416, "range-not-satisfiable", "Range not satisfiable"


@dataclass(frozen=True)
class Opened:
    evidence_id: uuid.UUID
    blob_key: str
    file_key: bytes
    aad: bytes
    size: int
    media_type: str
    etag: str
    file_name: str


def open_file(ctx: AppContext, key: DataKey, evidence_id: uuid.UUID) -> Opened:
    """The caller's live evidence, ready to read; 404/410 as for the record."""
    with ctx.sessionmaker() as session:
        row = service.get_live(session, key.account_id, evidence_id)
    return open_row(ctx, key, row)


def open_row(ctx: AppContext, key: DataKey, row: Evidence) -> Opened:
    """A live evidence row already found in the caller's scope, ready to read.

    The stored size is checked against the recorded one here, before anything is sent.
    """
    assert row.file_key_enc is not None and row.details_enc is not None
    assert row.blob_key is not None
    details = sealing.open_details(key, sealing.TABLE, row.id, row.details_enc)
    opened = Opened(
        evidence_id=row.id,
        blob_key=row.blob_key,
        file_key=sealing.unwrap_file_key(key, row.id, row.file_key_enc),
        aad=sealing.stream_aad(key.account_id, row.id),
        size=row.size,
        media_type=row.media_type,
        etag=f'"{row.sha256}"',
        file_name=details.file_name,
    )
    try:
        stored = ctx.blobs.size(row.blob_key)
    except BlobNotFound as exc:
        raise corrupted(opened, exc) from exc
    except BlobStoreError as exc:
        raise ServiceUnavailable("The file store cannot be reached right now.") from exc
    if stored != ciphertext_size(row.size):
        raise corrupted(opened, ValueError(f"stored size {stored}"))
    return opened


def corrupted(opened: Opened, exc: Exception) -> IntegrityFailure:
    log.error(
        "evidence failed its integrity check",
        extra={"evidence_id": str(opened.evidence_id), "error_type": type(exc).__name__},
    )
    return IntegrityFailure("This file was altered in storage; it is not served.")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) of one `bytes=` range; None to send everything (no, or an ignored, Range).

    Several ranges or another unit are ignored (RFC 9110 allows it); a valid range that lies
    wholly past the end is 416.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or not (match[1] or match[2]):
        return None
    if not match[1]:  # the last n bytes
        suffix = int(match[2])
        if suffix == 0:
            raise _unsatisfiable(size)
        return max(size - suffix, 0), size
    start = int(match[1])
    if match[2] and int(match[2]) < start:
        return None  # last < first: not a valid range, so ignored
    if start >= size:
        raise _unsatisfiable(size)
    end = int(match[2]) + 1 if match[2] else size
    return start, min(end, size)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The file has {size} bytes.", headers={"Content-Range": f"bytes */{size}"}
    )


def span(wanted: tuple[int, int] | None, size: int) -> tuple[int, int]:
    return wanted if wanted is not None else (0, size)


def read(ctx: AppContext, opened: Opened, span: tuple[int, int]) -> Iterator[bytes]:
    """The plaintext of `span`, each piece authenticated before it is yielded.

    An altered header fails here; an altered segment fails where the reader meets it. Both
    raise IntegrityFailure (and log it once), so no caller can mistake them for the end.
    """
    start, end = span
    try:
        pieces = encrypted.read_plaintext(
            ctx.blobs, opened.blob_key, opened.file_key, opened.aad, start, end
        )
    except StreamCorrupted as exc:
        raise corrupted(opened, exc) from exc
    return _authenticated(opened, pieces)


def _authenticated(opened: Opened, pieces: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from pieces
    except StreamCorrupted as exc:
        raise corrupted(opened, exc) from exc


async def respond(
    request: Request,
    ctx: AppContext,
    opened: Opened,
    range_header: str | None,
    if_range: str | None,
    *,
    account_id: uuid.UUID,
) -> StreamingResponse:
    """The file's response: 200, or 206 for one `Range` (unless `If-Range` names another file).

    It counts as one of `account_id`'s transfers (the caller's own account) until it ends.
    The first batch is read before the response starts, so damage near the start is a clean
    500; damage found later breaks the connection short of its Content-Length.
    """
    wanted = parse_range(range_header, opened.size)
    if if_range is not None and if_range.strip() != opened.etag:
        wanted = None
    sent = span(wanted, opened.size)
    release = take_transfer_slot(request, account_id, ctx.settings)
    try:
        pieces = await in_transfer_thread(request, read, ctx, opened, sent)
        first = await first_batch(request, pieces)
        return ReleasingStream(
            send_batches(request, first, pieces),
            release=release,
            idle_seconds=ctx.settings.body_idle_seconds,
            status_code=206 if wanted else 200,
            media_type=opened.media_type,
            headers=headers(opened, sent, partial=wanted is not None),
        )
    except BaseException:
        release()
        raise


def headers(opened: Opened, span: tuple[int, int], *, partial: bool) -> dict[str, str]:
    start, end = span
    result = {
        "Content-Length": str(end - start),
        "ETag": opened.etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(opened.file_name, opened.evidence_id),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if partial:
        result["Content-Range"] = f"bytes {start}-{end - 1}/{opened.size}"
    return result


def content_disposition(file_name: str, evidence_id: uuid.UUID) -> str:
    """`attachment` with an ASCII fallback and the exact name as RFC 6266 `filename*`.

    Only the last path component is kept and control characters are dropped, so the name
    can neither steer where a browser saves the file nor break the header.
    """
    name = re.split(r"[\\/]", file_name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    name = name or f"evidence-{evidence_id}"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = _UNSAFE_ASCII.sub("_", ascii_name).strip(" ._") or "evidence"
    encoded = quote(name.encode("utf-8", "surrogatepass"), safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
