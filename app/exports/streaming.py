"""Turn a writer into a reader: what a function writes to a file is yielded as chunks.

`zipfile` (and so `write_bundle`) wants a file to write to; a download response and the
encrypting blob writer (app.blobs.encrypted.write_stream) want an iterator of chunks. The
function runs in a thread of its own and writes to a write-only, unseekable stream (so
`zipfile` writes in streaming mode, with data descriptors); each write is handed over through a
small queue. Nothing is held whole in memory or written to disk, and a reader that stops early
makes the writer fail at its next write instead of running on.
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

CHUNK_QUEUE = 8


class _QueueWriter(io.RawIOBase):
    """A write-only, unseekable stream whose writes are handed to a reader thread."""

    def __init__(self, chunks: queue.Queue[bytes | BaseException | None]) -> None:
        self.chunks = chunks
        self.cancelled = threading.Event()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        block = bytes(data)
        self.hand(block)
        return len(block)

    def hand(self, item: bytes | BaseException | None) -> None:
        """Queue `item` for the reader; give up once the reader has gone."""
        while True:
            if self.cancelled.is_set():
                raise BrokenPipeError("the reader went away")
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


def written_chunks(write: Callable[[IO[bytes]], object], *, name: str) -> Iterator[bytes]:
    """The bytes `write(stream)` writes, as they are written; its exception is raised here."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=CHUNK_QUEUE)
    writer = _QueueWriter(chunks)

    def produce() -> None:
        try:
            write(cast(IO[bytes], writer))
            writer.hand(None)
        except BaseException as exc:  # handed to the reader, which raises it
            with contextlib.suppress(BrokenPipeError):
                writer.hand(exc)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            if item:
                yield item
    finally:
        writer.cancelled.set()
        thread.join(timeout=5)
