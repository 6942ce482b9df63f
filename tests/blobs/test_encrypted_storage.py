"""Evidence files through the encrypted writer and reader, on a local folder and on S3 alike."""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest

from app.blobs import BlobNotFound, BlobStore, BlobStoreError, LocalBlobStore
from app.blobs.encrypted import (
    FinishedBlob,
    WriterState,
    abort,
    append,
    finish,
    read_plaintext,
    start_upload,
    write_stream,
)
from app.crypto.stream import (
    HEADER_SIZE,
    SEGMENT_SIZE,
    StreamCorrupted,
    ciphertext_size,
    new_file_key,
    segment_offset,
)
from tests.blobs.backends import Backend, uploads_in_progress

S = SEGMENT_SIZE
MiB = 1024 * 1024
AAD = b"chronicle/evidence\x00account:5b0e\x00evidence:91c2"
KEY = "acct-5b0e/ev-91c2"
MARKER = b"<<PLANTED-MARKER: he was outside the school gate again>>"


def chunked(data: bytes, sizes: list[int]) -> Iterator[bytes]:
    position, turn = 0, 0
    while position < len(data):
        yield data[position : position + sizes[turn % len(sizes)]]
        position += sizes[turn % len(sizes)]
        turn += 1


def with_markers(size: int) -> bytes:
    data = bytearray(os.urandom(size))
    for position in range(0, max(size - len(MARKER), 0), 4096):
        data[position : position + len(MARKER)] = MARKER
    return bytes(data)


def upload_in_requests(
    store: BlobStore, file_key: bytes, data: bytes, requests: list[int], chunk_sizes: list[int]
) -> WriterState:
    """One tus PATCH per entry of `requests`, the state saved as JSON between them."""
    state = WriterState.from_json(start_upload(store, KEY, file_key, AAD).to_json())
    position = 0
    for size in [*requests, len(data)]:
        body = data[position : position + size]
        position += len(body)
        state = append(store, state, file_key, AAD, chunked(body, chunk_sizes))
        state = WriterState.from_json(state.to_json())
    return state


def rewrite(store: BlobStore, key: str, stored: bytes) -> None:
    """Replace a stored blob's bytes, as someone with write access to the store could."""
    store.complete(store.append(store.start_upload(key), [stored]))


def read_all(store: BlobStore, file_key: bytes, aad: bytes = AAD) -> bytes:
    return b"".join(read_plaintext(store, KEY, file_key, aad))


@pytest.mark.parametrize("size", [0, 1, S - 1, S, S + 1, 3 * MiB + 7])
def test_round_trip_in_one_request(backend: Backend, size: int) -> None:
    file_key, data = new_file_key(), os.urandom(size)
    result = write_stream(backend.store, KEY, file_key, AAD, chunked(data, [8192]))
    assert result == FinishedBlob(
        blob_key=KEY,
        size=size,
        stored_size=ciphertext_size(size),
        sha256_hex=hashlib.sha256(data).hexdigest(),
    )
    assert backend.store.size(KEY) == ciphertext_size(size)
    assert read_all(backend.store, file_key) == data


@pytest.mark.parametrize("size", [0, 1, S - 1, S, S + 1, 3 * MiB + 7])
def test_round_trip_through_resumable_upload(backend: Backend, size: int) -> None:
    file_key, data = new_file_key(), os.urandom(size)
    state = upload_in_requests(backend.store, file_key, data, [size // 3, 1], [8192, 1000])
    result = finish(backend.store, state, file_key, AAD)
    assert result.sha256_hex == hashlib.sha256(data).hexdigest() and result.size == size
    assert read_all(backend.store, file_key) == data


def test_many_requests_in_odd_chunks_give_the_exact_sha256(backend: Backend) -> None:
    file_key = new_file_key()
    data = os.urandom(17 * MiB + 12345)  # S3: two whole parts, the rest staged in between
    requests = [1, 65_535, 2, 700_001, 3 * MiB + 1, 0, 5 * MiB - 3, 4 * MiB, 2 * MiB + 17]
    state = upload_in_requests(
        backend.store, file_key, data, requests, [1, 7, 8191, 65_537, 1_000_003]
    )
    assert state.received == len(data)
    result = finish(backend.store, state, file_key, AAD)
    assert result.sha256_hex == hashlib.sha256(data).hexdigest()
    assert result.stored_size == backend.store.size(KEY) == ciphertext_size(len(data))
    assert read_all(backend.store, file_key) == data
    assert finish(backend.store, state, file_key, AAD) == result  # a retried final request


def test_no_plaintext_reaches_the_store_or_the_saved_state(backend: Backend) -> None:
    file_key = new_file_key()
    data = with_markers(9 * MiB + 1000)
    samples = [data[i : i + 32] for i in random.Random(3).sample(range(len(data) - 32), 20)]

    def assert_hidden(stored: dict[str, bytes], state: WriterState | None) -> None:
        for name, blob in stored.items():
            assert MARKER not in blob, name
            assert not any(sample in blob for sample in samples), name
        if state is not None:
            assert MARKER.hex() not in state.to_json() and b"PLANTED" not in state.pending

    state = start_upload(backend.store, KEY, file_key, AAD)
    position = 0
    for size in (100, S + 4000, 2 * MiB + 99, 3 * MiB):  # each leaves a partial segment
        state = append(backend.store, state, file_key, AAD, [data[position : position + size]])
        position += size
        assert_hidden(backend.stored_objects(), state)
        assert len(state.pending) > position % S  # the pending tail is kept, sealed
    state = append(backend.store, state, file_key, AAD, [data[position:]])
    finish(backend.store, state, file_key, AAD)
    stored = backend.stored_objects()
    assert sum(map(len, stored.values())) >= len(data)
    assert_hidden(stored, None)


def damage_cases(size: int) -> dict[str, Callable[[bytes], bytes]]:
    def flip(position: int) -> Callable[[bytes], bytes]:
        def change(blob: bytes) -> bytes:
            damaged = bytearray(blob)
            damaged[position if position >= 0 else len(blob) + position] ^= 0x10
            return bytes(damaged)

        return change

    def segment(blob: bytes, index: int) -> bytes:
        return blob[segment_offset(index) : segment_offset(index + 1)]

    other_key = new_file_key()
    other_file = write_to_bytes(other_key, os.urandom(size))
    return {
        "flipped bit in the header": flip(HEADER_SIZE - 1),
        "flipped bit in the first segment": flip(HEADER_SIZE + 100),
        "flipped bit in a tag": flip(segment_offset(2) - 1),
        "flipped last bit": flip(-1),
        "truncated by one byte": lambda b: b[:-1],
        "final segment dropped": lambda b: b[: segment_offset(size // S)],
        "cut mid-segment": lambda b: b[: segment_offset(1) + 5000],
        "extra segment appended": lambda b: b + segment(b, 0),
        "segments reordered": lambda b: (
            b[:HEADER_SIZE] + segment(b, 1) + segment(b, 0) + b[segment_offset(2) :]
        ),
        "segment swapped in from another file": lambda b: (
            b[: segment_offset(1)] + segment(other_file, 1) + b[segment_offset(2) :]
        ),
    }


def write_to_bytes(file_key: bytes, data: bytes) -> bytes:
    """Another file's stored bytes, written through a throwaway local store."""
    with tempfile.TemporaryDirectory() as folder:
        store = LocalBlobStore(Path(folder))
        write_stream(store, KEY, file_key, AAD, [data])
        return b"".join(store.read(KEY))


def test_any_tampering_with_the_stored_blob_fails_closed(backend: Backend) -> None:
    size = 3 * S + 500
    file_key, data = new_file_key(), os.urandom(size)
    write_stream(backend.store, KEY, file_key, AAD, [data])
    original = b"".join(backend.store.read(KEY))
    for name, change in damage_cases(size).items():
        rewrite(backend.store, KEY, change(original))
        with pytest.raises(StreamCorrupted):
            read_all(backend.store, file_key)
            pytest.fail(f"{name} was not detected")
    rewrite(backend.store, KEY, original)
    assert read_all(backend.store, file_key) == data
    with pytest.raises(StreamCorrupted):
        read_all(backend.store, file_key, aad=AAD.replace(b"91c2", b"91c3"))
    with pytest.raises(StreamCorrupted):
        read_all(backend.store, new_file_key())


def test_ranged_reads_return_exact_bytes(backend: Backend) -> None:
    size = 3 * S + 100
    file_key, data = new_file_key(), os.urandom(size)
    write_stream(backend.store, KEY, file_key, AAD, [data])
    points = sorted({0, 1, S - 1, S, S + 1, 2 * S - 1, 2 * S, 3 * S, 3 * S + 1, size - 1, size})
    for start in points:
        for end in (p for p in points if p >= start):
            got = b"".join(read_plaintext(backend.store, KEY, file_key, AAD, start, end))
            assert got == data[start:end], (start, end)
    assert b"".join(read_plaintext(backend.store, KEY, file_key, AAD, S + 3)) == data[S + 3 :]
    outside: list[tuple[int, int | None]] = [(0, size + 1), (size + 1, None), (5, 4)]
    for first, stop in outside:
        with pytest.raises(ValueError):
            read_plaintext(backend.store, KEY, file_key, AAD, first, stop)


def test_a_ranged_read_decrypts_only_the_segments_it_needs(backend: Backend) -> None:
    size = 4 * S
    file_key, data = new_file_key(), os.urandom(size)
    write_stream(backend.store, KEY, file_key, AAD, [data])

    damaged = bytearray(b"".join(backend.store.read(KEY)))
    damaged[segment_offset(2) + 10] ^= 1
    rewrite(backend.store, KEY, bytes(damaged))
    head = read_plaintext(backend.store, KEY, file_key, AAD, 10, 2 * S)
    assert b"".join(head) == data[10 : 2 * S]
    with pytest.raises(StreamCorrupted):
        b"".join(read_plaintext(backend.store, KEY, file_key, AAD, 2 * S - 1, 2 * S + 1))


def test_a_tampered_writer_state_is_refused(backend: Backend) -> None:
    file_key, data = new_file_key(), os.urandom(3 * S)
    state = start_upload(backend.store, KEY, file_key, AAD)
    early = append(backend.store, state, file_key, AAD, [data[: S + 10]])
    later = append(backend.store, early, file_key, AAD, [data[S + 10 : S + 20]])
    stale_tail = replace(later, pending=early.pending)
    moved_offset = replace(later, received=later.received + 1)
    for bad in (stale_tail, moved_offset):
        with pytest.raises(StreamCorrupted):
            append(backend.store, bad, file_key, AAD, [b"more"])
        with pytest.raises(StreamCorrupted):
            finish(backend.store, bad, file_key, AAD)
    with pytest.raises(StreamCorrupted):
        append(backend.store, later, new_file_key(), AAD, [b"more"])
    with pytest.raises(StreamCorrupted):
        append(backend.store, later, file_key, b"another evidence", [b"more"])
    with pytest.raises(StreamCorrupted):
        finish(backend.store, later, file_key, b"another evidence")
    finish(backend.store, later, file_key, AAD)
    assert read_all(backend.store, file_key) == data[: S + 20]


def test_abort_removes_everything(backend: Backend) -> None:
    file_key, data = new_file_key(), os.urandom(9 * MiB)
    state = upload_in_requests(backend.store, file_key, data, [MiB, 3 * MiB], [65_536])
    abort(backend.store, state)
    assert backend.stored_objects() == {}
    assert uploads_in_progress(backend) == []
    finished = upload_in_requests(backend.store, file_key, data, [], [65_536])
    finish(backend.store, finished, file_key, AAD)
    abort(backend.store, finished)
    assert backend.stored_objects() == {}
    with pytest.raises(BlobNotFound):
        read_plaintext(backend.store, KEY, file_key, AAD)


def test_a_request_failing_part_way_leaves_no_blob_and_the_upload_resumes(
    backend: Backend,
) -> None:
    file_key, data = new_file_key(), os.urandom(12 * MiB + 333)
    saved = WriterState.from_json(
        append(backend.store, start_upload(backend.store, KEY, file_key, AAD), file_key, AAD,
               [data[: MiB + 5]]).to_json()
    )  # fmt: skip
    with ExitStack() as outage:

        def request() -> Iterator[bytes]:
            yield from chunked(data[MiB + 5 : 10 * MiB], [8192])
            outage.enter_context(backend.outage())
            yield data[10 * MiB : 11 * MiB]

        with pytest.raises(BlobStoreError):
            append(backend.store, saved, file_key, AAD, request())
    with pytest.raises(BlobNotFound):
        backend.store.size(KEY)
    resumed = append(backend.store, saved, file_key, AAD, chunked(data[MiB + 5 :], [8192]))
    result = finish(backend.store, resumed, file_key, AAD)
    assert result.sha256_hex == hashlib.sha256(data).hexdigest()


def test_a_failed_one_request_upload_leaves_no_blob(backend: Backend) -> None:
    file_key, data = new_file_key(), os.urandom(10 * MiB)
    with ExitStack() as outage:

        def request() -> Iterator[bytes]:
            yield from chunked(data[: 9 * MiB], [65_536])
            outage.enter_context(backend.outage())
            yield data[9 * MiB :]

        with pytest.raises(BlobStoreError):
            write_stream(backend.store, KEY, file_key, AAD, request())
    with pytest.raises(BlobNotFound):
        backend.store.size(KEY)
    assert all(not entry.complete for entry in backend.store.list_keys())
