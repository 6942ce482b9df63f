"""tus 1.0 resumable uploads under /v1/uploads: core, creation, termination, checksum, expiration.

Standard tus clients work unchanged: they send the access token as a header. Every response
carries `Tus-Resumable`; errors are problem+json like everywhere else. The upload id becomes
the evidence id once the last byte is in: `/v1/uploads/{id}` -> `/v1/evidence/{id}`.

PATCH streams: it claims the upload (app.evidence.uploads), encrypts and stores the body in a
worker thread with no transaction open (app.evidence.transfer), then saves the new offset.
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.routing import APIRoute

from app.blobs import encrypted
from app.bodies import NOT_JSON, BodyKind, takes
from app.context import CtxDep
from app.crypto.fields import DataKey
from app.db import SessionDep
from app.errors import PROBLEM_CONTENT_TYPE
from app.evidence import completion, hashing, media, sealing, tus, uploads
from app.evidence.body import BodyChecks
from app.evidence.errors import FileTooLarge, UnsupportedMedia, UploadBusy, store_failures
from app.evidence.transfer import Body, in_transfer_thread, transfer_slot
from app.security.keys import KeyDep

OFFSET_STREAM = "application/offset+octet-stream"
# A PATCH longer than this saves its progress every so many bytes (see `_receive`); each save
# is an fsync of the segments written since the last one and a database commit.
CHECKPOINT_BYTES = 128 * 1024 * 1024
# The body is encrypted and stored in batches of this size (an S3 part: see app.blobs.s3), so
# a PATCH holds at most two of them in memory: one being stored, the next being received.
WRITE_BATCH_BYTES = 8 * 1024 * 1024

_PROBLEM = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_ERRORS = {
    400: "Malformed tus headers",
    401: "Authentication required",
    404: "No such upload (or not yours)",
    409: "Upload-Offset does not match, or another request is writing to the upload",
    503: "The evidence store failed; nothing of the request was kept",
    410: "The upload expired",
    412: "Tus-Resumable is not 1.0.0",
    413: "The file is too large, or the account's storage quota would be exceeded",
    415: "Not application/offset+octet-stream, or not an accepted kind of file",
    408: "The body stalled or arrived too slowly; a PATCH answers the offset it saved",
    422: "Invalid request",
    429: "Too many unfinished uploads, or too many transfers at once for this account",
    460: "Upload-Checksum does not match the body; nothing of it was kept",
    500: "What was stored failed its integrity check",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"description": _ERRORS[s], "content": _PROBLEM} for s in statuses}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


_TUS_RESUMABLE = {"Tus-Resumable": _header("Always 1.0.0.")}
_OFFSET = {"Upload-Offset": _header("Bytes received and stored so far.")}
_EXPIRES = {"Upload-Expires": _header("When an unfinished upload is removed (RFC 9110 date).")}


class TusRoute(APIRoute):
    """Adds `Tus-Resumable` to every response, the errors from dependencies included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                render = _exception_handler(request, exc)
                if render is None:
                    raise
                rendered = render(request, exc)
                response = await rendered if inspect.isawaitable(rendered) else rendered
            response.headers["Tus-Resumable"] = tus.TUS_VERSION
            return response

        return tus_handler


def _exception_handler(request: Request, exc: Exception) -> Callable[..., Any] | None:
    handlers: dict[Any, Callable[..., Any]] = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


def tus_resumable(
    value: Annotated[str | None, Header(alias="Tus-Resumable", max_length=16)] = None,
) -> None:
    tus.require_version(value)


router = APIRouter(tags=["evidence"], route_class=TusRoute, dependencies=[Depends(tus_resumable)])
options_router = APIRouter(tags=["evidence"], route_class=TusRoute)


# Each PATCH is held to its upload's length too (and to what it reserved).
CHUNK = BodyKind(json=False, limit=lambda s: s.max_upload_bytes)


@options_router.options(
    "/v1/uploads",
    operation_id="evidence_uploads_options",
    status_code=204,
    response_class=Response,
    responses={
        204: {
            "description": "What this tus server supports.",
            "headers": {
                **_TUS_RESUMABLE,
                "Tus-Version": _header("1.0.0"),
                "Tus-Extension": _header(tus.TUS_EXTENSIONS),
                "Tus-Max-Size": _header("The largest file accepted, in bytes."),
                "Tus-Checksum-Algorithm": _header(tus.CHECKSUM_ALGORITHMS),
                "Chronicle-Accepted-Types": _header(
                    f"The media types accepted as evidence: {media.ACCEPTED_TEXT}."
                ),
            },
        }
    },
)
@takes(NOT_JSON)
def options_uploads(ctx: CtxDep) -> Response:
    """tus discovery: versions, extensions, the size limit and checksum algorithms."""
    return Response(
        status_code=204,
        headers={
            "Tus-Version": tus.TUS_VERSION,
            "Tus-Extension": tus.TUS_EXTENSIONS,
            "Tus-Max-Size": str(ctx.settings.max_upload_bytes),
            "Tus-Checksum-Algorithm": tus.CHECKSUM_ALGORITHMS,
            "Chronicle-Accepted-Types": ", ".join(m.mime for m in media.ALLOWED),
        },
    )


@router.post(
    "/v1/uploads",
    operation_id="evidence_upload_create",
    status_code=201,
    response_class=Response,
    responses={
        201: {
            "description": "Created; `Location` is the upload's URL.",
            "headers": {
                **_TUS_RESUMABLE,
                **_EXPIRES,
                "Location": _header("/v1/uploads/{id}; the evidence id is the same."),
            },
        },
        **_errors(400, 401, 412, 413, 415, 422, 429),
    },
)
@takes(NOT_JSON)
def create_upload(
    key: KeyDep,
    ctx: CtxDep,
    session: SessionDep,
    request: Request,
    upload_length: Annotated[str | None, Header(alias="Upload-Length", max_length=20)] = None,
    upload_concat: Annotated[
        str | None, Header(alias="Upload-Concat", max_length=4096, include_in_schema=False)
    ] = None,
    upload_defer_length: Annotated[
        str | None, Header(alias="Upload-Defer-Length", max_length=8, include_in_schema=False)
    ] = None,
    upload_metadata: Annotated[
        str | None,
        Header(
            alias="Upload-Metadata",
            max_length=tus.MAX_METADATA_HEADER,
            description="base64 pairs: filename, caption, incident_ids (filetype is ignored).",
        ),
    ] = None,
) -> Response:
    """Start a resumable upload of `Upload-Length` bytes (reserved against the quota).

    Concatenation, deferred length and creation-with-upload are refused by name (400)."""
    tus.refuse_unsupported(
        upload_concat, upload_defer_length, request.headers.get("content-length")
    )
    length = tus.parse_count("Upload-Length", upload_length)
    if length > ctx.settings.max_upload_bytes:
        raise FileTooLarge(f"A file may be at most {ctx.settings.max_upload_bytes} bytes.")
    if length == 0:
        raise UnsupportedMedia("An empty file is not evidence.")
    upload = uploads.create(session, key, ctx.settings, length, tus.parse_metadata(upload_metadata))
    return Response(
        status_code=201,
        headers={
            "Location": f"/v1/uploads/{upload.id}",
            "Upload-Expires": tus.http_date(upload.expires_at),
        },
    )


def _metadata(key: DataKey, claim: uploads.Claim) -> tus.UploadMetadata:
    details = sealing.open_details(key, sealing.UPLOADS_TABLE, claim.upload_id, claim.details_enc)
    return tus.UploadMetadata(details.file_name, details.caption, claim.incident_ids)


def _progress(claim: uploads.Claim, received: int, *, done: bool) -> dict[str, str]:
    headers = {"Upload-Offset": str(received), "Upload-Length": str(claim.length)}
    if not done:
        headers["Upload-Expires"] = tus.http_date(claim.expires_at)
    return headers


@router.head(
    "/v1/uploads/{upload_id}",
    operation_id="evidence_upload_head",
    response_class=Response,
    responses={
        200: {
            "description": "Where the upload stands (no body).",
            "headers": {
                **_TUS_RESUMABLE,
                **_OFFSET,
                **_EXPIRES,
                "Upload-Metadata": _header("What the client gave at creation, re-encoded."),
            },
        },
        **_errors(401, 404, 410, 412, 415, 422, 503),
    },
)
@takes(CHUNK)
async def head_upload(upload_id: uuid.UUID, key: KeyDep, ctx: CtxDep) -> Response:
    """The offset to resume from. A whole upload whose completion was cut off is completed."""
    found = await anyio.to_thread.run_sync(
        uploads.look, ctx.sessionmaker, key.account_id, upload_id
    )
    if found.completed or found.received < found.length or found.state is None:
        headers = _progress(found, found.received, done=found.completed)
        metadata = tus.metadata_header(_metadata(key, found))
        if metadata:
            headers["Upload-Metadata"] = metadata
        return Response(status_code=200, headers=headers)
    try:
        held = await _claim(ctx, key, upload_id, found.length)
    except UploadBusy:  # someone is completing it right now
        return Response(status_code=200, headers=_progress(found, found.received, done=False))
    if not held.completed and held.state is not None:
        await _complete(ctx, key, held, held.state)
    return Response(status_code=200, headers=_progress(held, held.length, done=True))


async def _claim(ctx: CtxDep, key: DataKey, upload_id: uuid.UUID, offset: int) -> uploads.Claim:
    return await anyio.to_thread.run_sync(
        uploads.claim,
        ctx.sessionmaker,
        key.account_id,
        upload_id,
        offset,
        ctx.settings.upload_lease_seconds,
    )


async def _complete(
    ctx: CtxDep, key: DataKey, held: uploads.Claim, state: encrypted.WriterState
) -> None:
    try:
        with store_failures():
            await anyio.to_thread.run_sync(completion.complete_upload, ctx, key, held, state)
    except BaseException:
        await _release(ctx, held)
        raise


async def _release(ctx: CtxDep, held: uploads.Claim) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(uploads.release, ctx.sessionmaker, held)


@router.patch(
    "/v1/uploads/{upload_id}",
    operation_id="evidence_upload_patch",
    status_code=204,
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {OFFSET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        204: {
            "description": "Stored; the last PATCH also records the evidence.",
            "headers": {**_TUS_RESUMABLE, **_OFFSET, **_EXPIRES},
        },
        **_errors(400, 401, 404, 408, 409, 410, 412, 413, 415, 422, 429, 460, 500, 503),
    },
)
@takes(CHUNK)
async def patch_upload(
    upload_id: uuid.UUID,
    request: Request,
    key: KeyDep,
    ctx: CtxDep,
    upload_offset: Annotated[str | None, Header(alias="Upload-Offset", max_length=20)] = None,
    upload_checksum: Annotated[
        str | None,
        Header(
            alias="Upload-Checksum",
            max_length=128,
            description="sha1 or sha256, a space, then the base64 digest",
        ),
    ] = None,
) -> Response:
    """Append the body at `Upload-Offset`. With `Upload-Checksum`, a mismatch keeps nothing."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != OFFSET_STREAM:
        raise UnsupportedMedia(f"Send the bytes as {OFFSET_STREAM}.")
    offset = tus.parse_count("Upload-Offset", upload_offset)
    checksum = tus.parse_checksum(upload_checksum)
    declared = request.headers.get("content-length")
    with transfer_slot(request, key.account_id, ctx.settings):
        return await _patch(ctx, key, upload_id, request, offset, checksum, declared)


async def _patch(
    ctx: CtxDep,
    key: DataKey,
    upload_id: uuid.UUID,
    request: Request,
    offset: int,
    checksum: tus.Checksum | None,
    declared: str | None,
) -> Response:
    held = await _claim(ctx, key, upload_id, offset)
    if held.completed:
        return Response(status_code=204, headers=_progress(held, held.length, done=True))
    try:
        room = held.length - held.received
        if declared is not None and declared.isdigit() and int(declared) > room:
            raise FileTooLarge(f"Upload-Length leaves room for {room} more bytes.")
        running = hashing.resume(held.upload_id, held.state)
        with store_failures():
            state, body = await _receive(
                ctx, key, held, request, BodyChecks(room, checksum), running
            )
    except UnsupportedMedia:
        # Refused on its first bytes: nothing of it is kept, and its reservation is freed.
        await anyio.to_thread.run_sync(uploads.discard, ctx.sessionmaker, held)
        await anyio.to_thread.run_sync(
            completion.remove_upload_blob, ctx, held.state, held.blob_key
        )
        hashing.forget(held.upload_id)
        raise
    except BaseException:
        await _release(ctx, held)
        raise
    done = state.received == held.length
    keep = ctx.settings.upload_lease_seconds if done else None
    saved = await anyio.to_thread.run_sync(
        partial(uploads.save, keep_lease_seconds=keep), ctx.sessionmaker, held, state
    )
    if not saved:
        raise UploadBusy("This upload was taken over by another request; resume with HEAD.")
    hashing.remember(held.upload_id, state, running)
    if body.stalled:
        # What arrived is saved: the client resumes from this offset (HEAD says the same).
        raise body.too_slow(
            f"The body stalled; {state.received} bytes are stored, resume from there.",
            headers={**_progress(held, state.received, done=False)},
        )
    if not done:
        return Response(status_code=204, headers=_progress(held, state.received, done=False))
    await _complete(ctx, key, held, state)
    return Response(status_code=204, headers=_progress(held, held.length, done=True))


async def _receive(
    ctx: CtxDep,
    key: DataKey,
    held: uploads.Claim,
    request: Request,
    checks: BodyChecks,
    running: Any | None,
) -> tuple[encrypted.WriterState, Body]:
    """Encrypt and store the body after the claimed offset; the new state, durable, not saved.

    The body is read on the event loop (app.evidence.transfer); a transfer thread is taken
    only to encrypt and store each batch that has arrived. Receiving and storing overlap: the
    loop reads the next batch while a thread seals and writes the one before, and hands it
    over only when that thread is done (a stream with no buffer), so a PATCH holds at most two
    batches (`WRITE_BATCH_BYTES` each) and one thread. Batches are appended without an fsync
    each; the segments are flushed to disk before any state that counts them is saved (at a
    checkpoint, and once at the end), so the offset a client is told is always durable.
    `running`, the upload's SHA-256 so far if this process knows it, is extended in step.
    """
    hash_update = running.update if running is not None else None
    file_key = sealing.unwrap_file_key(key, held.upload_id, held.file_key_enc)
    aad = sealing.stream_aad(key.account_id, held.upload_id)
    lease = ctx.settings.upload_lease_seconds
    check = checks.start()

    def save(state: encrypted.WriterState) -> None:
        encrypted.flush(ctx.blobs, state)
        if not uploads.save(ctx.sessionmaker, held, state, keep_lease_seconds=lease):
            raise UploadBusy("This upload was taken over by another request.")
        hashing.remember(held.upload_id, state, running.copy() if running else None)

    def start() -> encrypted.WriterState:
        state = encrypted.start_upload(ctx.blobs, held.blob_key, file_key, aad)
        save(state)  # at once, so a failed first request leaves nothing unknown
        return state

    def write(state: encrypted.WriterState, batch: bytes) -> encrypted.WriterState:
        check.hash(batch)
        return encrypted.append(
            ctx.blobs, state, file_key, aad, (batch,), hash_update=hash_update, durable=False
        )

    state = held.state
    handover, arrived = anyio.create_memory_object_stream[bytes](0)

    async def store_batches() -> None:
        nonlocal state
        renewed = time.monotonic()
        unsaved = unflushed = 0
        async with arrived:
            async for batch in arrived:
                if state is None:
                    state = await in_transfer_thread(request, start)
                # Renewed before the batch is written, never after the lease could have run out.
                if time.monotonic() - renewed > lease / 3:
                    if not await anyio.to_thread.run_sync(
                        uploads.renew, ctx.sessionmaker, held, lease
                    ):
                        raise UploadBusy("This upload was taken over by another request.")
                    renewed = time.monotonic()
                state = await in_transfer_thread(request, write, state, batch)
                unsaved += len(batch)
                unflushed += len(batch)
                # A long body is saved as it goes, so a crash loses at most one portion of it;
                # with a checksum nothing may count before the whole body is checked, so it
                # is saved once, by the caller.
                if checks.checksum is None and unsaved >= CHECKPOINT_BYTES:
                    await in_transfer_thread(request, save, state)
                    unsaved = unflushed = 0
        if unflushed and state is not None:
            await in_transfer_thread(request, encrypted.flush, ctx.blobs, state)

    body = Body(request, ctx.settings)
    sniff = held.state is None or held.state.received == 0
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(store_batches)
            async with handover:
                async for batch in body.batches(WRITE_BATCH_BYTES):
                    check.see(batch)
                    if sniff:
                        # Sniffed from the first bytes, so a file of a kind that is refused
                        # anyway is refused now, not after all of it has been sent
                        # (completion checks it again).
                        completion.inspect_head(batch[: media.HEAD_BYTES])
                        sniff = False
                    await handover.send(batch)
    except BaseExceptionGroup as failed:
        raise _first_failure(failed) from None
    check.finish(cut_short=body.cut_short)
    if state is None:  # an empty first PATCH: the upload starts all the same
        state = await in_transfer_thread(request, start)
    return state, body


def _first_failure(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that stopped a PATCH's receiving or storing: not the other side's
    cancellation or broken hand-over, which that error caused."""
    leaves: list[BaseException] = []

    def collect(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                collect(inner)
        else:
            leaves.append(exc)

    collect(group)
    consequences = (anyio.get_cancelled_exc_class(), anyio.BrokenResourceError)
    return next((exc for exc in leaves if not isinstance(exc, consequences)), leaves[0])


@router.delete(
    "/v1/uploads/{upload_id}",
    operation_id="evidence_upload_delete",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Terminated; what it stored is removed.", "headers": _TUS_RESUMABLE},
        **_errors(401, 404, 409, 412, 422),
    },
)
@takes(CHUNK)
def delete_upload(upload_id: uuid.UUID, key: KeyDep, ctx: CtxDep) -> Response:
    """tus termination. A finished upload's evidence stays (DELETE /v1/evidence/{id} for it)."""
    gone = uploads.terminate(ctx.sessionmaker, key.account_id, upload_id)
    hashing.forget(upload_id)
    if not gone.completed:
        completion.remove_upload_blob(ctx, gone.state, gone.blob_key)
    return Response(status_code=204)
