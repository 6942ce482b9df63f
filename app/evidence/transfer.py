"""Moving file bodies between the network and the threads that encrypt and store them.

Waiting for the network never holds a thread. The event loop reads a request body into batches
(`Body.batches`); a worker thread is taken only to encrypt and store a batch that is already
in memory, and given back before the next one is awaited. So a client that trickles a byte a
second costs a little memory and a socket, never one of the transfer threads every other
upload and download needs. How a body ends decides what counts:
- it ended: the batches end;
- the client went away (`disconnected`) or stalled (`stalled`: nothing for `body_idle_seconds`,
  or under `body_min_rate` bytes a second on average after `body_rate_grace_seconds`): the
  batches end too, so the bytes that did arrive can be kept (tus resumes from there) or refused
  by the caller, which decides;
- anything else (a body over the limit, a cancelled request): the error propagates, and the
  caller keeps nothing of this request.

Downloads: the decrypting reader runs in a worker thread a batch at a time; the loop sends, so
a slow reader holds no thread either.

Worker threads come from a limiter of their own (`AppContext.transfer_limiter`), so transfers
cannot take every thread the rest of the service needs; and one account moves at most
`max_transfers_per_account` bodies at once (`transfer_slot`, counted in
`AppContext.transfers_in_flight`), so it cannot take every transfer thread from other accounts.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from app.context import ctx_of
from app.errors import AppError, TooManyRequests
from app.settings import Settings

log = logging.getLogger("app.evidence")
BATCH_BYTES = 1024 * 1024
# How late a stalled body may be cut off, past its limit (see `Body.batches`).
DEADLINE_SLACK = 0.25
TRANSFER_THREADS = 16
# How long a client refused for too many transfers is asked to wait: about one small transfer.
TRANSFER_RETRY_AFTER_SECONDS = 5

T = TypeVar("T")
Consumer = Callable[[Iterator[bytes], Callable[[], bool]], T]


class BodyTooSlow(AppError):
    status, type, title = 408, "body-too-slow", "The request body arrived too slowly"


class TooManyTransfers(TooManyRequests):
    type, title = "too-many-transfers", "Too many transfers at once"


def transfer_limiter(request: Request) -> anyio.CapacityLimiter:
    """The app's own pool of transfer threads (`AppContext.transfer_limiter`)."""
    return ctx_of(request).transfer_limiter


async def in_transfer_thread(request: Request, func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in a transfer thread: for work on bytes already in memory, never a wait."""
    return await anyio.to_thread.run_sync(func, *args, limiter=transfer_limiter(request))


def take_transfer_slot(
    request: Request, account_id: uuid.UUID, settings: Settings
) -> Callable[[], None]:
    """One of the account's `max_transfers_per_account` bodies in flight, or 429; returns the
    function that gives it back (once, however often it is called).

    Counted per process, on the event loop: nothing here awaits, so no lock is needed."""
    counts = ctx_of(request).transfers_in_flight
    if counts.get(account_id, 0) >= settings.max_transfers_per_account:
        raise TooManyTransfers(
            f"At most {settings.max_transfers_per_account} uploads and downloads at once per "
            "account; try again when one has finished.",
            headers={"Retry-After": str(TRANSFER_RETRY_AFTER_SECONDS)},
        )
    counts[account_id] = counts.get(account_id, 0) + 1
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            counts[account_id] -= 1
            if not counts[account_id]:
                del counts[account_id]

    return release


@contextmanager
def transfer_slot(request: Request, account_id: uuid.UUID, settings: Settings) -> Iterator[None]:
    """`take_transfer_slot` for the length of a block (an upload's route)."""
    release = take_transfer_slot(request, account_id, settings)
    try:
        yield
    finally:
        release()


class Body:
    """A request body read on the event loop, with the slow-client limits applied."""

    def __init__(self, request: Request, settings: Settings) -> None:
        self._request = request
        self._idle = settings.body_idle_seconds
        self._min_rate = settings.body_min_rate
        self._grace = settings.body_rate_grace_seconds
        self.received = 0
        self.disconnected = False
        self.stalled = False

    @property
    def cut_short(self) -> bool:
        """The body did not end as the client meant it to (gone away or too slow)."""
        return self.disconnected or self.stalled

    async def batches(self, size: int = BATCH_BYTES) -> AsyncIterator[bytes]:
        """The body in batches of at least `size` bytes (the last may be shorter).

        One cancel scope per batch times the waits for its chunks (never the consumer's work
        between batches: nothing is yielded inside it). Its deadline only ever moves later, and
        moving a timer costs more than taking a chunk, so it is moved `DEADLINE_SLACK` seconds
        past where it must be, and only when that point has been passed: a stall is cut off
        at its limit or up to that much after it, never before.
        """
        chunks = self._request.stream().__aiter__()
        started = time.monotonic()
        ended = False
        while not ended:
            pending: list[bytes] = []
            held = 0
            with anyio.CancelScope() as waits:
                deadline = -math.inf
                while held < size:
                    due = anyio.current_time() + self._wait_allowed(started)
                    if due > deadline:
                        deadline = waits.deadline = due + DEADLINE_SLACK
                    try:
                        chunk = await chunks.__anext__()
                    except StopAsyncIteration:
                        ended = True
                        break
                    except ClientDisconnect:
                        self.disconnected = ended = True
                        break
                    self.received += len(chunk)
                    pending.append(chunk)
                    held += len(chunk)
            if waits.cancelled_caught:
                self.stalled = ended = True
            if pending:
                yield b"".join(pending)

    def _wait_allowed(self, started: float) -> float:
        """How long the next chunk may take: the idle limit, or less if the rate is behind."""
        if not self._min_rate:
            return self._idle
        # The moment the average rate would fall under the minimum, counting the grace period.
        due = started + max(self._grace, self.received / self._min_rate)
        return max(0.0, min(self._idle, due - time.monotonic()))

    def too_slow(self, detail: str, headers: dict[str, str] | None = None) -> BodyTooSlow:
        return BodyTooSlow(
            f"{detail} Send at least {self._min_rate} bytes a second and never pause for "
            f"{self._idle:g} seconds.",
            headers=headers,
        )


async def receive_body(request: Request, settings: Settings, consume: Consumer[T]) -> T:
    """Read the whole body on the event loop, then `consume(batches, disconnected)` it in a
    transfer thread (for one-request uploads, whose size the body limit bounds).

    A body that stalls is refused (408) before anything of it is stored."""
    body = Body(request, settings)
    batches = [batch async for batch in body.batches()]
    if body.stalled:
        raise body.too_slow("The upload was too slow; nothing of it was kept.")
    return await in_transfer_thread(request, consume, iter(batches), lambda: body.disconnected)


def _next_batch(pieces: Iterator[bytes]) -> bytes:
    batch: list[bytes] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= BATCH_BYTES:
            break
    return b"".join(batch)


async def first_batch(request: Request, pieces: Iterator[bytes]) -> bytes:
    """The first batch, read before the response starts so an early failure is a clean error."""
    return await in_transfer_thread(request, _next_batch, pieces)


async def send_batches(
    request: Request, first: bytes, pieces: Iterator[bytes]
) -> AsyncIterator[bytes]:
    """`first`, then the rest of `pieces`, read in worker threads a batch at a time."""
    batch = first
    while batch:
        yield batch
        batch = await in_transfer_thread(request, _next_batch, pieces)


class ReleasingStream(StreamingResponse):
    """A streamed download that gives its transfer slot back however the response ends.

    A client that stops reading (a phone gone out of signal, a half-open connection) is cut
    off once a send has waited `idle_seconds`, so it cannot hold the account's slot for the
    kernel's TCP timeouts."""

    def __init__(
        self, *args: Any, release: Callable[[], None], idle_seconds: float, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.release = release
        self.idle_seconds = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_or_give_up(message: Message) -> None:
            with anyio.fail_after(self.idle_seconds):
                await send(message)

        try:
            await super().__call__(scope, receive, send_or_give_up)
        except TimeoutError:
            log.info("download cut off: the client stopped reading")
        finally:
            self.release()
