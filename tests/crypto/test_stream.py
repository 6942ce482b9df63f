"""The segmented streaming AEAD: format, sizes, range mapping, and failing closed on tampering."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto.stream import (
    CIPHER_SEGMENT_SIZE,
    HEADER_SIZE,
    SEGMENT_SIZE,
    TAG_SIZE,
    SegmentCipher,
    StreamCorrupted,
    StreamHeader,
    ciphertext_size,
    decrypt_segments,
    new_file_key,
    plaintext_size,
    segment_count,
    segment_offset,
    span_for_range,
)

S = SEGMENT_SIZE
AAD = b"evidence:7d0c\x00account:41aa"
SIZES = [0, 1, S - 1, S, S + 1, 2 * S, 3 * S + 5]


def seal(key: bytes, data: bytes, aad: bytes = AAD, header: StreamHeader | None = None) -> bytes:
    """A whole stream in memory: header || segment 0 || ... || final segment."""
    header = header or StreamHeader.generate()
    cipher = SegmentCipher(key, header, aad)
    final = len(data) // S
    out = [header.to_bytes()]
    for index in range(final + 1):
        out.append(
            cipher.encrypt_segment(index, data[index * S : (index + 1) * S], last=index == final)
        )
    return b"".join(out)


def open_all(key: bytes, blob: bytes, aad: bytes = AAD) -> bytes:
    size = plaintext_size(len(blob))
    cipher = SegmentCipher(key, StreamHeader.parse(blob[:HEADER_SIZE]), aad)
    segments = decrypt_segments(
        cipher, [blob[HEADER_SIZE:]], first=0, last=size // S, plaintext_size=size
    )
    return b"".join(segments)


def segments_of(blob: bytes) -> list[bytes]:
    body = blob[HEADER_SIZE:]
    return [body[i : i + CIPHER_SEGMENT_SIZE] for i in range(0, len(body), CIPHER_SEGMENT_SIZE)]


@pytest.fixture
def key() -> bytes:
    return new_file_key()


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_keeps_every_byte(key: bytes, size: int) -> None:
    data = os.urandom(size)
    blob = seal(key, data)
    assert len(blob) == ciphertext_size(size)
    assert plaintext_size(len(blob)) == size
    assert open_all(key, blob) == data


def test_a_file_of_whole_segments_ends_with_an_empty_final_segment(key: bytes) -> None:
    blob = seal(key, os.urandom(2 * S))
    assert [len(s) for s in segments_of(blob)] == [CIPHER_SEGMENT_SIZE] * 2 + [TAG_SIZE]
    assert segment_count(0) == 1 and segment_count(S - 1) == 1 and segment_count(S) == 2


def test_nonce_is_prefix_counter_and_last_flag(key: bytes) -> None:
    header = StreamHeader.generate()
    blob = seal(key, os.urandom(S + 10), header=header)
    first, final = segments_of(blob)
    aead = AESGCM(key)
    prefix = header.nonce_prefix
    assert len(aead.decrypt(prefix + (0).to_bytes(4, "big") + b"\x00", first, AAD)) == S
    assert len(aead.decrypt(prefix + (1).to_bytes(4, "big") + b"\x01", final, AAD)) == 10


def test_header_is_versioned(key: bytes) -> None:
    header = StreamHeader.generate()
    raw = header.to_bytes()
    assert raw[:5] == b"CHRS\x01" and len(raw) == HEADER_SIZE
    assert StreamHeader.parse(raw) == header
    for bad in (b"CHRS\x02" + raw[5:], b"XHRS" + raw[4:], raw[:-1]):
        with pytest.raises(StreamCorrupted):
            StreamHeader.parse(bad)


def test_sizes_map_both_ways_and_impossible_sizes_are_refused() -> None:
    for size in [*SIZES, 10 * S + 12345, 2**40 + 3]:
        assert plaintext_size(ciphertext_size(size)) == size
    for stored in (0, HEADER_SIZE, HEADER_SIZE + TAG_SIZE - 1, HEADER_SIZE + CIPHER_SEGMENT_SIZE):
        with pytest.raises(StreamCorrupted):
            plaintext_size(stored)


def test_segments_have_fixed_sizes(key: bytes) -> None:
    cipher = SegmentCipher(key, StreamHeader.generate(), AAD)
    with pytest.raises(ValueError):
        cipher.encrypt_segment(0, b"short", last=False)
    with pytest.raises(ValueError):
        cipher.encrypt_segment(0, bytes(S), last=True)
    with pytest.raises(ValueError):
        SegmentCipher(b"short key", StreamHeader.generate(), AAD)


def test_a_flipped_bit_anywhere_fails(key: bytes) -> None:
    blob = seal(key, os.urandom(2 * S + 300))
    boundaries = [segment_offset(i) + d for i in range(3) for d in (-1, 0, 1)]
    positions = {*range(HEADER_SIZE), *boundaries, len(blob) - 1}
    positions |= set(random.Random(7).sample(range(len(blob)), 150))
    for position in sorted(positions):
        damaged = bytearray(blob)
        damaged[position] ^= 1 << (position % 8)
        with pytest.raises(StreamCorrupted):
            open_all(key, bytes(damaged))


@pytest.mark.parametrize("size", [S - 1, S, 2 * S + 300])
def test_a_truncated_stream_fails(key: bytes, size: int) -> None:
    blob = seal(key, os.urandom(size))
    cuts = {1, TAG_SIZE, CIPHER_SEGMENT_SIZE - 1, CIPHER_SEGMENT_SIZE, CIPHER_SEGMENT_SIZE + 16}
    for cut in sorted(c for c in cuts if c < len(blob) - HEADER_SIZE):
        with pytest.raises(StreamCorrupted):
            open_all(key, blob[:-cut])


def test_dropping_the_final_segment_at_a_boundary_fails(key: bytes) -> None:
    blob = seal(key, os.urandom(2 * S + 300))
    segments = segments_of(blob)
    without_final = blob[:HEADER_SIZE] + b"".join(segments[:-1])
    with pytest.raises(StreamCorrupted):
        open_all(key, without_final)
    # Even when the sizes are made to look right, segment 1 was not sealed as the last one.
    cipher = SegmentCipher(key, StreamHeader.parse(blob[:HEADER_SIZE]), AAD)
    with pytest.raises(StreamCorrupted):
        cipher.decrypt_segment(1, segments[1], last=True)


def test_extra_segments_after_the_last_fail(key: bytes) -> None:
    blob = seal(key, os.urandom(2 * S + 300))
    segments = segments_of(blob)
    for extra in (segments[0], segments[-1], seal(key, os.urandom(40))[HEADER_SIZE:]):
        with pytest.raises(StreamCorrupted):
            open_all(key, blob + extra)


def test_reordered_segments_fail(key: bytes) -> None:
    blob = seal(key, os.urandom(3 * S + 300))
    s = segments_of(blob)
    for order in ([1, 0, 2, 3], [0, 2, 1, 3], [0, 1, 1, 3]):
        with pytest.raises(StreamCorrupted):
            open_all(key, blob[:HEADER_SIZE] + b"".join(s[i] for i in order))


def test_a_segment_from_another_file_fails(key: bytes) -> None:
    data = os.urandom(2 * S + 300)
    ours = seal(key, data)
    same_key_other_file = seal(key, data)  # same key and aad, another nonce prefix
    other_key = seal(new_file_key(), data, header=StreamHeader.parse(ours[:HEADER_SIZE]))
    for other in (same_key_other_file, other_key):
        swapped = ours[: segment_offset(1)] + segments_of(other)[1] + ours[segment_offset(2) :]
        with pytest.raises(StreamCorrupted):
            open_all(key, swapped)


def test_wrong_associated_data_or_key_fails(key: bytes) -> None:
    blob = seal(key, b"the photo of the car outside")
    with pytest.raises(StreamCorrupted):
        open_all(key, blob, aad=b"evidence:other\x00account:41aa")
    with pytest.raises(StreamCorrupted):
        open_all(new_file_key(), blob)


def chunked(data: bytes, sizes: list[int]) -> Iterator[bytes]:
    position, turn = 0, 0
    while position < len(data):
        step = sizes[turn % len(sizes)]
        yield data[position : position + step]
        position += step
        turn += 1


@pytest.mark.parametrize("sizes", [[1 << 30], [1], [7, 65551, 65553], [CIPHER_SEGMENT_SIZE]])
def test_stored_bytes_may_arrive_in_chunks_of_any_size(key: bytes, sizes: list[int]) -> None:
    data = os.urandom(2 * S + 77)
    blob = seal(key, data)
    cipher = SegmentCipher(key, StreamHeader.parse(blob[:HEADER_SIZE]), AAD)
    chunks = chunked(blob[HEADER_SIZE:], sizes)
    out = decrypt_segments(cipher, chunks, first=0, last=2, plaintext_size=len(data))
    assert b"".join(out) == data


def test_more_or_fewer_stored_bytes_than_the_segments_fail(key: bytes) -> None:
    data = os.urandom(2 * S + 5)
    blob = seal(key, data)
    cipher = SegmentCipher(key, StreamHeader.parse(blob[:HEADER_SIZE]), AAD)
    body = blob[HEADER_SIZE:]
    with pytest.raises(StreamCorrupted):
        list(decrypt_segments(cipher, [body + b"x"], first=0, last=2, plaintext_size=len(data)))
    with pytest.raises(StreamCorrupted):
        list(decrypt_segments(cipher, [body[:-1]], first=0, last=2, plaintext_size=len(data)))


def test_ranges_map_to_the_segments_that_hold_them(key: bytes) -> None:
    size = 3 * S + 100
    data = os.urandom(size)
    blob = seal(key, data)
    cipher = SegmentCipher(key, StreamHeader.parse(blob[:HEADER_SIZE]), AAD)
    points = sorted({0, 1, S - 1, S, S + 1, 2 * S, 2 * S + 1, 3 * S, 3 * S + 1, size - 1, size})
    for start in points:
        for end in (p for p in points if p > start):
            span = span_for_range(start, end, size)
            assert span.first == start // S
            assert span.last == (size // S if end == size else (end - 1) // S)
            stored = blob[span.stored_start : span.stored_end]
            plain = b"".join(
                decrypt_segments(
                    cipher, [stored], first=span.first, last=span.last, plaintext_size=size
                )
            )
            assert plain[span.skip : span.skip + span.length] == data[start:end]


def test_a_range_outside_the_file_is_refused() -> None:
    for start, end in ((-1, 5), (5, 4), (0, 11)):
        with pytest.raises(ValueError):
            span_for_range(start, end, 10)


def test_a_range_reaching_the_end_includes_the_empty_final_segment() -> None:
    span = span_for_range(S, 2 * S, 2 * S)
    assert (span.first, span.last) == (1, 2)
    assert span.stored_end == ciphertext_size(2 * S)
