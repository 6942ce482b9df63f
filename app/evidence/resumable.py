"""The tus flows behind the routes: a PATCH appends a body, a HEAD says where to resume.

A PATCH claims the upload at the client's offset (app.evidence.uploads), encrypts and stores
the body with no transaction open (`_receive`), saves the new offset, and completes the upload
once the last byte is in (app.evidence.completion). Whatever fails gives the lease back; a
body refused on its first bytes is removed with its upload. The routes parse the headers,
call one function here and turn the `Progress` it returns into headers.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request

from app.blobs import encrypted
from app.context import AppContext
from app.crypto.fields import DataKey
from app.evidence import completion, hashing, media, sealing, tus, uploads
from app.evidence.body import BodyChecks
from app.evidence.errors import FileTooLarge, UnsupportedMedia, UploadBusy, store_failures
from app.evidence.transfer import Body, in_transfer_thread

# A PATCH longer than this saves its progress every so many bytes (see `_receive`); each save
# is an fsync of the segments written since the last one and a database commit.
CHECKPOINT_BYTES = 128 * 1024 * 1024
# The body is encrypted and stored in batches of this size (an S3 part: see app.blobs.s3), so
# a PATCH holds at most two of them in memory: one being stored, the next being received.
WRITE_BATCH_BYTES = 8 * 1024 * 1024


def _progress(claim: uploads.Claim, received: int, *, done: bool) -> tus.Progress:
    return tus.Progress(received, claim.length, claim.expires_at, done)


async def where_it_stands(
    ctx: AppContext, key: DataKey, upload_id: uuid.UUID
) -> tuple[tus.Progress, tus.UploadMetadata | None]:
    """HEAD: the offset to resume from, and the metadata of an upload still being sent.

    A whole upload whose completion was cut off is completed now."""
    found = await anyio.to_thread.run_sync(
        uploads.look, ctx.sessionmaker, key.account_id, upload_id
    )
    if found.completed or found.received < found.length or found.state is None:
        return _progress(found, found.received, done=found.completed), _metadata(key, found)
    try:
        held = await _claim(ctx, key, upload_id, found.length)
    except UploadBusy:  # someone is completing it right now
        return _progress(found, found.received, done=False), None
    if not held.completed and held.state is not None:
        await _complete(ctx, key, held, held.state)
    return _progress(held, held.length, done=True), None


def _metadata(key: DataKey, claim: uploads.Claim) -> tus.UploadMetadata:
    details = sealing.open_details(key, sealing.UPLOADS_TABLE, claim.upload_id, claim.details_enc)
    return tus.UploadMetadata(details.file_name, details.caption, claim.incident_ids)


async def append(
    ctx: AppContext,
    key: DataKey,
    upload_id: uuid.UUID,
    request: Request,
    offset: int,
    checksum: tus.Checksum | None,
) -> tus.Progress:
    """PATCH: the request's body appended at `offset`, saved, and the upload completed if it
    is whole. A body that stalled is kept up to where it stalled (408, with the offset)."""
    held = await _claim(ctx, key, upload_id, offset)
    if held.completed:
        return _progress(held, held.length, done=True)
    try:
        room = held.length - held.received
        declared = request.headers.get("content-length")
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
    await anyio.to_thread.run_sync(_save, ctx, held, state, running, keep)
    if body.stalled:
        # What arrived is saved: the client resumes from this offset (HEAD says the same).
        raise body.too_slow(
            f"The body stalled; {state.received} bytes are stored, resume from there.",
            headers=_progress(held, state.received, done=False).headers(),
        )
    if not done:
        return _progress(held, state.received, done=False)
    await _complete(ctx, key, held, state)
    return _progress(held, held.length, done=True)


def _save(
    ctx: AppContext,
    held: uploads.Claim,
    state: encrypted.WriterState,
    running: Any | None,
    keep_lease_seconds: int | None,
) -> None:
    """Save `state` under the lease (409 if it was lost), then remember the hash up to it."""
    uploads.save(ctx.sessionmaker, held, state, keep_lease_seconds=keep_lease_seconds)
    hashing.remember(held.upload_id, state, running)


async def _claim(ctx: AppContext, key: DataKey, upload_id: uuid.UUID, offset: int) -> uploads.Claim:
    return await anyio.to_thread.run_sync(
        uploads.claim,
        ctx.sessionmaker,
        key.account_id,
        upload_id,
        offset,
        ctx.settings.upload_lease_seconds,
    )


async def _complete(
    ctx: AppContext, key: DataKey, held: uploads.Claim, state: encrypted.WriterState
) -> None:
    try:
        with store_failures():
            await anyio.to_thread.run_sync(completion.complete_upload, ctx, key, held, state)
    except BaseException:
        await _release(ctx, held)
        raise


async def _release(ctx: AppContext, held: uploads.Claim) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(uploads.release, ctx.sessionmaker, held)


async def _receive(
    ctx: AppContext,
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
        encrypted.flush(ctx.blobs, state)  # durable before the offset that counts it is saved
        _save(ctx, held, state, running.copy() if running else None, lease)

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
                    await anyio.to_thread.run_sync(uploads.renew, ctx.sessionmaker, held, lease)
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
