"""Streaming AEAD for evidence files: the STREAM construction, as in Tink and age.

A file is cut into plaintext segments of SEGMENT_SIZE bytes, each sealed with AES-256-GCM under
the file's own random 32-byte key. The nonce of segment i is

    nonce prefix (7 random bytes, per file) || uint32 big-endian i || last flag (0x00 / 0x01)

so every segment is bound to its position and to whether it ends the file: a segment moved,
swapped, dropped or appended decrypts under the wrong nonce and fails, and so does a file cut at
a segment boundary (its new final segment was sealed as "not last"). The caller's associated
data (the evidence id and account) is authenticated with every segment, so a segment or a whole
file moved to another record fails too; another file's segments fail because its key differs.

Stored layout: header || segment 0 || ... || segment n, where

    header    = b"CHRS" || version 0x01 || nonce prefix            (HEADER_SIZE = 12 bytes)
    segment i = AES-GCM ciphertext of the plaintext segment || 16-byte tag

Every segment but the final one holds exactly SEGMENT_SIZE plaintext bytes; the final one holds
the remaining 0 .. SEGMENT_SIZE - 1 bytes. A file whose size is a multiple of SEGMENT_SIZE (the
empty file included) therefore ends with an empty final segment. This costs 16 bytes on such
files and buys two things: the plaintext size follows from the ciphertext size alone, and a
writer can seal each full segment as soon as it has it, never holding one back to learn whether
it was the last.

Decryption fails closed with StreamCorrupted and never yields the plaintext of a segment whose
tag did not verify (AESGCM.decrypt returns nothing on failure).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
KEY_SIZE = 32
NONCE_PREFIX_SIZE = 7
CIPHER_SEGMENT_SIZE = SEGMENT_SIZE + TAG_SIZE
MAGIC = b"CHRS"
VERSION = 1
HEADER_SIZE = len(MAGIC) + 1 + NONCE_PREFIX_SIZE
MAX_SEGMENTS = 2**32

_COUNTER = struct.Struct(">IB")

Bytes = bytes | bytearray | memoryview


class StreamCorrupted(ValueError):
    """The stored stream was altered, cut, extended, reordered, or belongs to another file."""


@dataclass(frozen=True)
class StreamHeader:
    """The plain header at the start of every stored stream."""

    nonce_prefix: bytes

    def __post_init__(self) -> None:
        if len(self.nonce_prefix) != NONCE_PREFIX_SIZE:
            raise ValueError(f"nonce prefix must be {NONCE_PREFIX_SIZE} bytes")

    @classmethod
    def generate(cls) -> StreamHeader:
        return cls(nonce_prefix=os.urandom(NONCE_PREFIX_SIZE))

    @classmethod
    def parse(cls, data: Bytes) -> StreamHeader:
        raw = bytes(data)
        if len(raw) != HEADER_SIZE or raw[: len(MAGIC)] != MAGIC:
            raise StreamCorrupted("not an evidence stream header")
        if raw[len(MAGIC)] != VERSION:
            raise StreamCorrupted(f"unknown evidence stream version {raw[len(MAGIC)]}")
        return cls(nonce_prefix=raw[len(MAGIC) + 1 :])

    def to_bytes(self) -> bytes:
        return MAGIC + bytes([VERSION]) + self.nonce_prefix


def new_file_key() -> bytes:
    """A fresh random key for one file; the caller wraps it under the account's data key."""
    return AESGCM.generate_key(bit_length=KEY_SIZE * 8)


class SegmentCipher:
    """Seals and opens the segments of one file: one AESGCM object for the whole file."""

    __slots__ = ("_aad", "_aead", "_prefix")

    def __init__(self, file_key: bytes, header: StreamHeader, aad: bytes) -> None:
        if len(file_key) != KEY_SIZE:
            raise ValueError(f"file key must be {KEY_SIZE} bytes")
        self._aead = AESGCM(file_key)
        self._prefix = header.nonce_prefix
        self._aad = aad

    def _nonce(self, index: int, last: bool) -> bytes:
        if not 0 <= index < MAX_SEGMENTS:
            raise ValueError("segment index out of range")
        return self._prefix + _COUNTER.pack(index, 1 if last else 0)

    def encrypt_segment(self, index: int, plaintext: Bytes, *, last: bool) -> bytes:
        """Seal segment `index`: SEGMENT_SIZE bytes, or fewer when it is the final one."""
        size = len(plaintext)
        if (size >= SEGMENT_SIZE) if last else (size != SEGMENT_SIZE):
            raise ValueError("a segment holds SEGMENT_SIZE bytes; the final one holds fewer")
        return self._aead.encrypt(self._nonce(index, last), plaintext, self._aad)

    def decrypt_segment(self, index: int, ciphertext: Bytes, *, last: bool) -> bytes:
        """Open segment `index`, or raise StreamCorrupted without returning any of it."""
        try:
            return self._aead.decrypt(self._nonce(index, last), ciphertext, self._aad)
        except InvalidTag:
            raise StreamCorrupted(f"segment {index} failed authentication") from None


def segment_count(plaintext_size: int) -> int:
    """Number of segments, the final (possibly empty) one included."""
    if plaintext_size < 0:
        raise ValueError("size must not be negative")
    return plaintext_size // SEGMENT_SIZE + 1


def ciphertext_size(plaintext_size: int) -> int:
    """Stored size of a stream (header included) for a plaintext of `plaintext_size` bytes."""
    return HEADER_SIZE + plaintext_size + TAG_SIZE * segment_count(plaintext_size)


def plaintext_size(stored_size: int) -> int:
    """Plaintext size of a stored stream; StreamCorrupted if no stream has this stored size."""
    body = stored_size - HEADER_SIZE
    full, final = divmod(body, CIPHER_SEGMENT_SIZE)
    if body < TAG_SIZE or final < TAG_SIZE:
        raise StreamCorrupted(f"{stored_size} bytes cannot be a whole evidence stream")
    if full + 1 > MAX_SEGMENTS:
        raise StreamCorrupted("stream has too many segments")
    return full * SEGMENT_SIZE + final - TAG_SIZE


def segment_offset(index: int) -> int:
    """Offset of segment `index` in the stored stream."""
    return HEADER_SIZE + index * CIPHER_SEGMENT_SIZE


def segment_stored_size(index: int, plaintext_size: int) -> int:
    """Stored size of segment `index` of a file of `plaintext_size` bytes."""
    final = plaintext_size // SEGMENT_SIZE
    if not 0 <= index <= final:
        raise ValueError("segment index beyond the end of the file")
    if index < final:
        return CIPHER_SEGMENT_SIZE
    return plaintext_size - final * SEGMENT_SIZE + TAG_SIZE


@dataclass(frozen=True)
class SegmentSpan:
    """The segments that cover a plaintext byte range, and where they are stored.

    Decrypt segments `first` .. `last` (inclusive) from stored bytes [`stored_start`,
    `stored_end`), then drop `skip` bytes from the front of the plaintext and keep `length`.
    A range that reaches the end of the file always includes the final segment, so reading a
    whole file verifies that it was neither cut short nor extended.
    """

    first: int
    last: int
    skip: int
    length: int
    stored_start: int
    stored_end: int


def span_for_range(start: int, end: int, plaintext_size: int) -> SegmentSpan:
    """Map the plaintext range [start, end) of a file to the segments that hold it."""
    if not 0 <= start <= end <= plaintext_size:
        raise ValueError(f"range [{start}, {end}) is outside a file of {plaintext_size} bytes")
    final = plaintext_size // SEGMENT_SIZE
    first = start // SEGMENT_SIZE
    last = final if end == plaintext_size else max(first, (end - 1) // SEGMENT_SIZE)
    return SegmentSpan(
        first=first,
        last=last,
        skip=start - first * SEGMENT_SIZE,
        length=end - start,
        stored_start=segment_offset(first),
        stored_end=segment_offset(last) + segment_stored_size(last, plaintext_size),
    )


def decrypt_segments(
    cipher: SegmentCipher,
    chunks: Iterable[Bytes],
    *,
    first: int,
    last: int,
    plaintext_size: int,
) -> Iterator[bytes]:
    """Open segments `first` .. `last` from their stored bytes, given as chunks of any size.

    Yields each segment's plaintext only after its tag has verified. Raises StreamCorrupted
    if the chunks hold fewer or more bytes than those segments.
    """
    final = plaintext_size // SEGMENT_SIZE
    if not 0 <= first <= last <= final:
        raise ValueError("segment range outside the file")
    index = first
    need = segment_stored_size(index, plaintext_size)
    carry = bytearray()
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            if index > last:
                raise StreamCorrupted("stored stream is longer than expected")
            if carry or len(view) < need:
                take = need - len(carry)
                carry += view[:take]
                view = view[take:]
                if len(carry) < need:
                    break
                segment: Bytes = carry
            else:
                segment, view = view[:need], view[need:]
            yield cipher.decrypt_segment(index, segment, last=index == final)
            carry = bytearray()
            index += 1
            if index <= last:
                need = segment_stored_size(index, plaintext_size)
    if index <= last:
        raise StreamCorrupted("stored stream ends early")
