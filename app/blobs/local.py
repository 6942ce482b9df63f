"""Blob store on a local folder: the embedded default, under DATA_DIR/blobs.

Layout:
    <root>/<key>             complete blobs, created only by an atomic rename
    <root>/.uploads/<key>    the upload in progress for <key>, appended in place

Each append opens the upload file, cuts it back to the saved state's size (dropping whatever
an attempt whose state was never saved had written), and writes with `os.writev`, gathering
about WRITE_GATHER bytes of chunks per call (a 64 KiB segment per `write` costs more in
syscalls than the encryption does). It fsyncs before returning unless the caller asked for a
non-durable append, in which case it only starts the writeback of what it wrote, and `flush`
fsyncs later, before the state is saved.
`complete` fsyncs, renames the file into place and fsyncs the directory, so a blob is either
absent or whole, even across a crash or a full disk. Files are created 0600, folders 0700.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from uuid import uuid4

from app.blobs.base import (
    BlobEntry,
    BlobNotFound,
    BlobStoreError,
    UploadState,
    check_key,
    check_prefix,
    check_range,
)

UPLOADS = ".uploads"
READ_CHUNK = 1024 * 1024
# Bytes of chunks gathered into one writev(2), within the kernel's limit on their number.
WRITE_GATHER = 1024 * 1024
_IOV_MAX = min(os.sysconf("SC_IOV_MAX"), 1024)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def _blob_path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _upload_path(self, key: str) -> Path:
        return self.root / UPLOADS / check_key(key)

    def start_upload(self, key: str) -> UploadState:
        path = self._upload_path(key)
        with _errors("start an upload"):
            _make_dirs(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            _fsync_dir(path.parent)
        return UploadState(key=key)

    def append(
        self, state: UploadState, chunks: Iterable[bytes], *, durable: bool = True
    ) -> UploadState:
        fd = self._open_upload(state)
        size = state.size
        try:
            gathered: list[bytes | memoryview] = []
            held = 0
            for chunk in chunks:
                gathered.append(chunk)
                held += len(chunk)
                size += len(chunk)
                if held >= WRITE_GATHER or len(gathered) >= _IOV_MAX:
                    _write_gathered(fd, gathered, held)
                    gathered, held = [], 0
            _write_gathered(fd, gathered, held)
            with _errors("flush an upload"):
                if durable:
                    os.fsync(fd)
                elif size > state.size:
                    _start_writeback(fd, state.size, size - state.size)
        finally:
            os.close(fd)
        return replace(state, size=size)

    def flush(self, state: UploadState) -> None:
        path = self._upload_path(state.key)
        with _errors("flush an upload"):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                raise BlobNotFound(f"no upload in progress for {state.key!r}") from None
            try:
                if os.fstat(fd).st_size < state.size:
                    raise BlobStoreError(f"upload {state.key!r} lost bytes it had appended")
                os.fsync(fd)
            finally:
                os.close(fd)

    def complete(self, state: UploadState, tail: bytes = b"") -> int:
        path, final = self._upload_path(state.key), self._blob_path(state.key)
        expected = state.size + len(tail)
        if not path.exists() and _file_size(final) == expected:
            return expected  # completed by an earlier call whose result was lost
        fd = self._open_upload(state)
        try:
            _write_all(fd, tail)
            with _errors("flush an upload"):
                os.fsync(fd)
        finally:
            os.close(fd)
        with _errors("complete an upload"):
            _make_dirs(final.parent)
            os.replace(path, final)
            _fsync_dir(final.parent)
            _fsync_dir(path.parent)
        return expected

    def abort(self, state: UploadState) -> None:
        _remove(self._upload_path(state.key))

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        check_range(start, end)
        path = self._blob_path(key)
        self.size(key)
        return _read_file(path, start, end)

    def size(self, key: str) -> int:
        size = _file_size(self._blob_path(key))
        if size is None:
            raise BlobNotFound(f"no blob {key!r}")
        return size

    def delete(self, key: str) -> None:
        _remove(self._blob_path(key))
        _remove(self._upload_path(key))

    def list_keys(self, prefix: str = "") -> Iterator[BlobEntry]:
        yield from _walk(self.root, prefix, complete=True)
        yield from _walk(self.root / UPLOADS, prefix, complete=False)

    def check(self) -> None:
        probe = self.root / UPLOADS / f".readyz-{uuid4().hex}"
        with _errors("write to its folder"):
            _make_dirs(probe.parent)
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                _write_all(fd, b"ready")
                os.fsync(fd)
            finally:
                os.close(fd)
            os.unlink(probe)

    def _open_upload(self, state: UploadState) -> int:
        """Open the upload file positioned at `state.size`, dropping any bytes after it."""
        path = self._upload_path(state.key)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise BlobNotFound(f"no upload in progress for {state.key!r}") from None
        except OSError as exc:
            raise _error("open an upload", exc) from exc
        try:
            with _errors("resume an upload"):
                if os.fstat(fd).st_size < state.size:
                    raise BlobStoreError(f"upload {state.key!r} lost bytes it had acknowledged")
                os.ftruncate(fd, state.size)
                os.lseek(fd, state.size, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        return fd


def _error(action: str, exc: OSError) -> BlobStoreError:
    return BlobStoreError(f"local blob store could not {action}: {exc.strerror or exc}")


@contextmanager
def _errors(action: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _error(action, exc) from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    with _errors("write"):
        while view:
            view = view[os.write(fd, view) :]


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the kernel start writing `length` bytes at `offset` to disk, without waiting.

    So the disk works while the next batch arrives, and the `flush` that must wait before an
    offset is saved finds little left to do (POSIX_FADV_DONTNEED starts writeback of dirty
    pages on Linux, as sync_file_range(SYNC_FILE_RANGE_WRITE) would; the pages are not needed
    again soon). Where it is not available this is a no-op: `flush` does all the work.
    """
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def _write_gathered(fd: int, chunks: list[bytes | memoryview], total: int) -> None:
    """Write `chunks` (`total` bytes) in order, with as few writev(2) calls as the kernel takes."""
    with _errors("write"):
        while total:
            written = os.writev(fd, chunks)
            total -= written
            if not total:
                return
            # A short write: drop what went, keep the rest of a chunk cut in the middle.
            while written >= len(chunks[0]):
                written -= len(chunks.pop(0))
            if written:
                chunks[0] = memoryview(chunks[0])[written:]


def _file_size(path: Path) -> int | None:
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _error("read a blob's size", exc) from exc
    return stat.st_size if S_ISREG(stat.st_mode) else None


def _read_file(path: Path, start: int, end: int | None) -> Iterator[bytes]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise BlobNotFound(f"blob {path.name!r} was removed") from None
    except OSError as exc:
        raise _error("open a blob", exc) from exc
    try:
        with _errors("read a blob"):
            size = os.fstat(fd).st_size
        stop = size if end is None else min(end, size)
        position = start
        while position < stop:
            with _errors("read a blob"):
                data = os.pread(fd, min(READ_CHUNK, stop - position), position)
            if not data:
                raise BlobStoreError("blob shrank while it was read")
            position += len(data)
            yield data
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    with _errors("remove a blob"):
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)


def _make_dirs(path: Path) -> None:
    """Create missing folders, fsyncing each parent so the new entries survive a crash."""
    missing: list[Path] = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        _fsync_dir(folder.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _walk(base: Path, prefix: str, *, complete: bool) -> Iterator[BlobEntry]:
    folder = base / check_prefix(prefix).rpartition("/")[0]

    def fail(exc: OSError) -> None:
        if not isinstance(exc, FileNotFoundError):
            raise _error("list blobs", exc) from exc

    for dirpath, dirnames, filenames in os.walk(folder, onerror=fail):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath, name)
            key = path.relative_to(base).as_posix()
            if not key.startswith(prefix):
                continue
            with _errors("list blobs"):
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            yield BlobEntry(key=key, modified=modified, complete=complete)
