"""The tus PATCH flow as one service function, and the claim and completion HEAD shares.

`append` claims the upload (app.evidence.uploads), encrypts and stores the body in transfer
threads with no transaction open (app.evidence.transfer), saves the new offset, and completes
the upload when the last byte is in. Saving the offset is one step (`_save_or_busy`): a save
that finds the claim taken over answers 409, wherever it happens.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from fastapi import Request

from app.context import AppContext
from app.crypto.fields import DataKey
from app.evidence import completion, hashing, media, sealing, storage, tus, uploads
from app.evidence.body import BodyChecks
from app.evidence.errors import FileTooLarge, UnsupportedMedia, UploadBusy, store_failures
from app.evidence.transfer import Body, in_transfer_thread

# A PATCH longer than this saves its progress every so many bytes (see `_receive`).
CHECKPOINT_BYTES = 64 * 1024 * 1024
# The body is encrypted and stored in batches of this size (an S3 part: see app.blobs.s3), so
# a PATCH holds at most this much of it in memory.
WRITE_BATCH_BYTES = 8 * 1024 * 1024

TAKEN_OVER = "This upload was taken over by another request; resume with HEAD."


@dataclass(frozen=True)
class Appended:
    """Where an upload stands after a PATCH: its claim, the bytes stored, whether complete."""

    claim: uploads.Claim
    received: int
    done: bool


def _save_or_busy(
    ctx: AppContext, held: uploads.Claim, state: storage.WriterState, keep: int | None
) -> None:
    """Save the upload's new state under its claim, or 409 if another request took it over."""
    if not uploads.save(ctx.sessionmaker, held, state, keep_lease_seconds=keep):
        raise UploadBusy(TAKEN_OVER)


def progress(claim: uploads.Claim, received: int, *, done: bool) -> dict[str, str]:
    headers = {"Upload-Offset": str(received), "Upload-Length": str(claim.length)}
    if not done:
        headers["Upload-Expires"] = tus.http_date(claim.expires_at)
    return headers


async def claim(ctx: AppContext, key: DataKey, upload_id: uuid.UUID, offset: int) -> uploads.Claim:
    return await anyio.to_thread.run_sync(
        uploads.claim,
        ctx.sessionmaker,
        key.account_id,
        upload_id,
        offset,
        ctx.settings.upload_lease_seconds,
    )


async def complete(
    ctx: AppContext, key: DataKey, held: uploads.Claim, state: storage.WriterState
) -> None:
    try:
        with store_failures():
            await anyio.to_thread.run_sync(completion.complete_upload, ctx, key, held, state)
    except BaseException:
        await release(ctx, held)
        raise


async def release(ctx: AppContext, held: uploads.Claim) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(uploads.release, ctx.sessionmaker, held)


async def append(
    ctx: AppContext,
    key: DataKey,
    upload_id: uuid.UUID,
    request: Request,
    offset: int,
    checksum: tus.Checksum | None,
    declared: str | None,
) -> Appended:
    """One PATCH: claim the upload at `offset`, store the body after it (checked against the
    room left, `checksum` and the media kind), save the new offset, and complete the upload
    when its last byte is in. Every failure releases the claim; a refused kind frees it."""
    held = await claim(ctx, key, upload_id, offset)
    if held.completed:
        return Appended(held, held.length, done=True)
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
        await release(ctx, held)
        raise
    done = state.received == held.length
    keep = ctx.settings.upload_lease_seconds if done else None
    await anyio.to_thread.run_sync(_save_or_busy, ctx, held, state, keep)
    hashing.remember(held.upload_id, state, running)
    if body.stalled:
        # What arrived is saved: the client resumes from this offset (HEAD says the same).
        raise body.too_slow(
            f"The body stalled; {state.received} bytes are stored, resume from there.",
            headers={**progress(held, state.received, done=False)},
        )
    if not done:
        return Appended(held, state.received, done=False)
    await complete(ctx, key, held, state)
    return Appended(held, held.length, done=True)


async def _receive(
    ctx: AppContext,
    key: DataKey,
    held: uploads.Claim,
    request: Request,
    checks: BodyChecks,
    running: Any | None,
) -> tuple[storage.WriterState, Body]:
    """Encrypt and store the body after the claimed offset; the new state, not yet saved.

    The body is read on the event loop (app.evidence.transfer); a transfer thread is taken
    only to encrypt and store each batch that has arrived. `running`, the upload's SHA-256 so
    far if this process knows it, is extended in step.
    """
    hash_update = running.update if running is not None else None
    file_key = sealing.unwrap_file_key(key, held.upload_id, held.file_key_enc)
    aad = sealing.stream_aad(key.account_id, held.upload_id)
    lease = ctx.settings.upload_lease_seconds
    check = checks.start()

    def save(state: storage.WriterState) -> None:
        _save_or_busy(ctx, held, state, lease)
        hashing.remember(held.upload_id, state, running.copy() if running else None)

    def start() -> storage.WriterState:
        state = storage.start_upload(ctx.blobs, held.blob_key, file_key, aad)
        save(state)  # at once, so a failed first request leaves nothing unknown
        return state

    def write(state: storage.WriterState, batch: bytes) -> storage.WriterState:
        check.hash(batch)
        return storage.append(ctx.blobs, state, file_key, aad, (batch,), hash_update=hash_update)

    state = held.state
    body = Body(request, ctx.settings)
    renewed = time.monotonic()
    unsaved = 0
    async for batch in body.batches(WRITE_BATCH_BYTES):
        check.see(batch)
        if state is None or state.received == 0:
            # Sniffed from the first bytes, so a file of a kind that is refused anyway is
            # refused now, not after all of it has been sent (completion checks it again).
            completion.inspect_head(batch[: media.HEAD_BYTES])
        if state is None:
            state = await in_transfer_thread(request, start)
        # Renewed before the batch is written, never after the lease could have run out.
        if time.monotonic() - renewed > lease / 3:
            renewed_lease = await anyio.to_thread.run_sync(
                uploads.renew, ctx.sessionmaker, held, lease
            )
            if not renewed_lease:
                raise UploadBusy(TAKEN_OVER)
            renewed = time.monotonic()
        state = await in_transfer_thread(request, write, state, batch)
        unsaved += len(batch)
        # A long body is saved as it goes, so a crash loses at most one portion of it; with a
        # checksum nothing may count before the whole body is checked, so it is saved once.
        if checks.checksum is None and unsaved >= CHECKPOINT_BYTES:
            await in_transfer_thread(request, save, state)
            unsaved = 0
    check.finish(cut_short=body.cut_short)
    if state is None:  # an empty first PATCH: the upload starts all the same
        state = await in_transfer_thread(request, start)
    return state, body
