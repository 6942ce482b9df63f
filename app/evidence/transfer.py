"""Moving file bodies between the event loop and the thread that encrypts and stores them.

Uploads: the event loop reads the request body and hands it, in batches of about 1 MiB
through a queue of a few batches, to one worker thread that runs the (synchronous) encrypted
writer over it. So no more than a few MiB of a body are in memory at once, the loop never
waits on crypto or storage, and the writer sees one plain iterator, as app.evidence.storage
expects. How the body ends decides what counts:
- it ended: the iterator ends;
- the client went away: the iterator ends too, so the bytes that did arrive are kept (tus
  resumes from there), and `disconnected()` tells the consumer, which may refuse them;
- anything else (a body over the limit, a cancelled request): the iterator raises, so the
  writer keeps nothing of this request.

Downloads: the decrypting reader runs in a worker thread a batch at a time; the loop sends.

Worker threads come from a limiter of their own, so long uploads cannot take every thread
the rest of the service needs.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import aclosing
from typing import TypeVar

import anyio
import anyio.to_thread
from anyio import from_thread
from starlette.requests import ClientDisconnect, Request

BATCH_BYTES = 1024 * 1024
QUEUE_BATCHES = 4
TRANSFER_THREADS = 16

T = TypeVar("T")
Consumer = Callable[[Iterator[bytes], Callable[[], bool]], T]


class BodyInterrupted(Exception):
    """The request body broke off for a reason other than the client leaving."""


def transfer_limiter(request: Request) -> anyio.CapacityLimiter:
    """The app's own pool of transfer threads (made on first use, inside the event loop)."""
    limiter: anyio.CapacityLimiter | None = getattr(
        request.app.state, "evidence_transfer_limiter", None
    )
    if limiter is None:
        limiter = anyio.CapacityLimiter(TRANSFER_THREADS)
        request.app.state.evidence_transfer_limiter = limiter
    return limiter


class _Feed:
    def __init__(self) -> None:
        self.send, self.receive = anyio.create_memory_object_stream[bytes](QUEUE_BATCHES)
        self.disconnected = False
        self.interrupted = False

    def batches(self) -> Iterator[bytes]:
        """The body as the worker thread sees it (see the module docstring)."""
        while True:
            try:
                batch = from_thread.run(self.receive.receive)
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                break
            yield batch
        if self.interrupted:
            raise BodyInterrupted("the request body broke off")

    async def _body(self, request: Request) -> AsyncGenerator[bytes, None]:
        pending: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                pending.append(chunk)
                size += len(chunk)
                if size >= BATCH_BYTES:
                    yield b"".join(pending)
                    pending, size = [], 0
        except ClientDisconnect:
            self.disconnected = True
        if pending:
            yield b"".join(pending)

    async def pump(self, request: Request) -> None:
        try:
            async with aclosing(self._body(request)) as body:
                async for batch in body:
                    await self.send.send(batch)
        except anyio.BrokenResourceError:
            return  # the worker stopped reading: its outcome says why
        except BaseException:
            self.interrupted = True  # before the stream closes, so the worker sees it
            raise
        finally:
            self.send.close()


async def receive_body(request: Request, consume: Consumer[T]) -> T:
    """Run `consume(batches, disconnected)` in a worker thread over the request body."""
    feed = _Feed()
    outcome: list[T] = []
    failure: list[BaseException] = []

    async def work() -> None:
        try:
            outcome.append(
                await anyio.to_thread.run_sync(
                    consume,
                    feed.batches(),
                    lambda: feed.disconnected,
                    limiter=transfer_limiter(request),
                )
            )
        except Exception as exc:
            failure.append(exc)
            scope.cancel()  # stop reading a body nobody will use
        finally:
            feed.receive.close()

    async with anyio.create_task_group() as group:
        scope = group.cancel_scope
        group.start_soon(work)
        try:
            await feed.pump(request)
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:
            failure.insert(0, exc)  # the body's own failure explains the worker's
    if failure:
        raise failure[0]
    return outcome[0]


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
    return await anyio.to_thread.run_sync(_next_batch, pieces, limiter=transfer_limiter(request))


async def send_batches(
    request: Request, first: bytes, pieces: Iterator[bytes]
) -> AsyncIterator[bytes]:
    """`first`, then the rest of `pieces`, read in worker threads a batch at a time."""
    limiter = transfer_limiter(request)
    batch = first
    while batch:
        yield batch
        batch = await anyio.to_thread.run_sync(_next_batch, pieces, limiter=limiter)
