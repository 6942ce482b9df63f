"""Evidence files, encrypted as they stream into a blob store and decrypted as they stream out.

Plaintext never reaches the store, the disk or the database, and at most one segment of it
(64 KiB) plus the request chunk in hand is held in memory. Each file is a stream in the format
of app.crypto.stream under its own file key; `aad` (chosen by the caller, e.g. binding the
evidence id and account) is authenticated on every segment.

Resumable uploads (tus): `start_upload`, then `append` once per request from any process, then
`finish`. Between requests everything lives in the store and in a WriterState, which the caller
saves in its database row (`to_json`/`from_json`); no state stays in the process. Requests for
one upload must not run at once (the caller locks the row).

The pending tail. A request rarely ends on a segment boundary, so the bytes after the last full
segment must wait for the next one. The WriterState keeps them sealed with AES-256-GCM under a
key derived from the file key (HKDF, its own label), a random nonce, and associated data that
binds them to the file's header, the byte count so far and the caller's aad, so a stale or
foreign tail fails to open. A separate key is used because the tail is re-sealed as it grows:
random nonces under their own key can never meet the deterministic segment nonces.

The SHA-256. hashlib objects cannot be saved between requests, so `finish` computes the hash
by decrypting the stored blob once, start to end. That costs one more read and decryption than
a single-pass writer, and checks that what the store holds decrypts in full, final segment
included, before the upload is acknowledged; a blob that fails the check is deleted.
`write_stream` (one request) hashes as it writes instead.

Retries. A request that fails, or whose new state is never saved, leaves the previous state
valid; the next append restarts from it and the store drops what the failed one wrote. A
segment written again is the same plaintext under the same nonce, so its ciphertext is
byte-identical, provided the client re-sends the same bytes for the same offsets, as tus does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.blobs.base import BlobStore, BlobStoreError, UploadState
from app.crypto.stream import (
    CIPHER_SEGMENT_SIZE,
    HEADER_SIZE,
    SEGMENT_SIZE,
    SegmentCipher,
    StreamCorrupted,
    StreamHeader,
    ciphertext_size,
    decrypt_segments,
    plaintext_size,
    span_for_range,
)

_STATE_VERSION = 1
_PENDING_LABEL = b"chronicle/evidence-stream/v1/pending-tail"
_NONCE_SIZE = 12


@dataclass(frozen=True)
class WriterState:
    """Where an encrypted upload stands: what the caller saves between requests.

    `received` is the number of plaintext bytes accepted (the tus offset). `pending` is the
    sealed tail: the last `received % SEGMENT_SIZE` bytes, not yet part of a stored segment.
    """

    blob_key: str
    header: bytes
    received: int
    pending: bytes
    upload: UploadState

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": _STATE_VERSION,
                "blob_key": self.blob_key,
                "header": base64.b64encode(self.header).decode(),
                "received": self.received,
                "pending": base64.b64encode(self.pending).decode(),
                "upload": self.upload.to_dict(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> WriterState:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != _STATE_VERSION:
            raise ValueError("not an evidence writer state")
        blob_key, header, received = data.get("blob_key"), data.get("header"), data.get("received")
        pending, upload = data.get("pending"), data.get("upload")
        if (
            not isinstance(blob_key, str)
            or not isinstance(header, str)
            or not isinstance(pending, str)
            or not isinstance(received, int)
            or isinstance(received, bool)
            or received < 0
            or not isinstance(upload, dict)
        ):
            raise ValueError("malformed evidence writer state")
        return cls(
            blob_key=blob_key,
            header=base64.b64decode(header, validate=True),
            received=received,
            pending=base64.b64decode(pending, validate=True),
            upload=UploadState.from_dict(upload),
        )


@dataclass(frozen=True)
class FinishedBlob:
    """A stored, verified evidence file: its plaintext size and SHA-256, its stored size."""

    blob_key: str
    size: int
    stored_size: int
    sha256_hex: str


def start_upload(store: BlobStore, blob_key: str, file_key: bytes, aad: bytes) -> WriterState:
    header = StreamHeader.generate().to_bytes()
    SegmentCipher(file_key, StreamHeader.parse(header), aad)  # reject a bad key before storing
    upload = store.start_upload(blob_key)
    pending = _seal_pending(file_key, header, 0, aad, b"")
    return WriterState(blob_key=blob_key, header=header, received=0, pending=pending, upload=upload)


def append(
    store: BlobStore,
    state: WriterState,
    file_key: bytes,
    aad: bytes,
    chunks: Iterable[bytes],
    *,
    hash_update: Callable[[memoryview], object] | None = None,
    durable: bool = True,
) -> WriterState:
    """Encrypt `chunks` and store every whole segment; return the state to save.

    `hash_update`, if given, sees every plaintext byte in order (a caller that keeps a running
    SHA-256 over every request of an upload can then pass it to `finish`).
    With `durable=False` the store may not have made the segments durable yet: the state
    returned (and any later one) must go through `flush` before it is saved, so a saved
    offset never counts bytes a crash could still take away. Appending several batches that
    way and flushing once saves an fsync per batch.
    """
    return _append(store, state, file_key, aad, chunks, hash_update=hash_update, durable=durable)


def flush(store: BlobStore, state: WriterState) -> WriterState:
    """Make every segment `state` counts durable (after appends with `durable=False`); returns
    `state`, now safe to save."""
    store.flush(state.upload)
    return state


def finish(
    store: BlobStore,
    state: WriterState,
    file_key: bytes,
    aad: bytes,
    *,
    sha256_hex: str | None = None,
) -> FinishedBlob:
    """Seal the final segment, complete the blob, and hash it by decrypting it once.

    A caller that hashed every appended byte itself (see `append`) passes `sha256_hex` and
    saves that pass, as `write_stream` does; the stored size is checked either way.
    Idempotent: repeating it with the same state after it succeeded gives the same result.
    """
    return _finish(store, state, file_key, aad, sha256_hex=sha256_hex)


def abort(store: BlobStore, state: WriterState) -> None:
    """Remove everything the upload stored, the blob included if it was already completed."""
    store.abort(state.upload)
    store.delete(state.blob_key)


def write_stream(
    store: BlobStore, blob_key: str, file_key: bytes, aad: bytes, chunks: Iterable[bytes]
) -> FinishedBlob:
    """Store a whole file in one go, hashing it as it is written; nothing is left on failure."""
    state = start_upload(store, blob_key, file_key, aad)
    try:
        digest = hashlib.sha256()
        written = _append(store, state, file_key, aad, chunks, hash_update=digest.update)
        return _finish(store, written, file_key, aad, sha256_hex=digest.hexdigest())
    except BaseException:
        # The original failure is the one to report; the cleanup command finds any leftovers.
        with suppress(BlobStoreError):
            abort(store, state)
        raise


def read_plaintext(
    store: BlobStore,
    blob_key: str,
    file_key: bytes,
    aad: bytes,
    start: int = 0,
    end: int | None = None,
) -> Iterator[bytes]:
    """Stream the plaintext bytes [start, end), decrypting only the segments that hold them.

    Sizes, the header and the range are checked before this returns (ValueError for a range
    outside the file). Every byte yielded has been authenticated; tampering raises
    StreamCorrupted, and a range reaching the end of the file also verifies the final segment.
    """
    size = plaintext_size(store.size(blob_key))
    end = size if end is None else end
    span = span_for_range(start, end, size)
    header = StreamHeader.parse(b"".join(store.read(blob_key, 0, HEADER_SIZE)))
    cipher = SegmentCipher(file_key, header, aad)
    if start == end:
        return iter(())
    stored = store.read(blob_key, span.stored_start, span.stored_end)
    segments = decrypt_segments(
        cipher, stored, first=span.first, last=span.last, plaintext_size=size
    )
    return _cut(segments, span.skip, span.length)


def _append(
    store: BlobStore,
    state: WriterState,
    file_key: bytes,
    aad: bytes,
    chunks: Iterable[bytes],
    *,
    hash_update: Callable[[memoryview], object] | None,
    durable: bool = True,
) -> WriterState:
    cipher = _cipher_for(state, file_key, aad)
    tail = _open_pending(file_key, state, aad)
    segmenter = _Segmenter(cipher, state, tail, hash_update)
    upload = store.append(state.upload, segmenter.ciphertext(chunks), durable=durable)
    if not segmenter.done or upload.size != _stored_size(segmenter.received):
        raise BlobStoreError(f"the store did not take every segment of {state.blob_key!r}")
    pending = _seal_pending(file_key, state.header, segmenter.received, aad, segmenter.carry)
    return replace(state, received=segmenter.received, pending=pending, upload=upload)


def _finish(
    store: BlobStore, state: WriterState, file_key: bytes, aad: bytes, *, sha256_hex: str | None
) -> FinishedBlob:
    cipher = _cipher_for(state, file_key, aad)
    tail = _open_pending(file_key, state, aad)
    final = cipher.encrypt_segment(state.received // SEGMENT_SIZE, tail, last=True)
    if state.upload.size == 0:
        final = state.header + final
    stored = store.complete(state.upload, final)
    if stored != ciphertext_size(state.received):
        raise BlobStoreError(f"{state.blob_key!r} was stored with {stored} bytes")
    if sha256_hex is None:
        sha256_hex = _verified_sha256(store, state, file_key, aad)
    return FinishedBlob(
        blob_key=state.blob_key, size=state.received, stored_size=stored, sha256_hex=sha256_hex
    )


def _verified_sha256(store: BlobStore, state: WriterState, file_key: bytes, aad: bytes) -> str:
    digest = hashlib.sha256()
    try:
        for piece in read_plaintext(store, state.blob_key, file_key, aad):
            digest.update(piece)
    except StreamCorrupted:
        store.delete(state.blob_key)
        raise
    return digest.hexdigest()


class _Segmenter:
    """Cuts plaintext chunks into segments and seals each one as soon as it is whole."""

    def __init__(
        self,
        cipher: SegmentCipher,
        state: WriterState,
        tail: bytes,
        hash_update: Callable[[memoryview], object] | None,
    ) -> None:
        self.cipher = cipher
        self.header = state.header
        self.received = state.received
        self.index = state.received // SEGMENT_SIZE
        self.carry = bytearray(tail)
        self.hash_update = hash_update
        self.done = False

    def ciphertext(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            view = memoryview(chunk)
            if self.hash_update is not None:
                self.hash_update(view)
            self.received += len(view)
            if self.carry:
                take = SEGMENT_SIZE - len(self.carry)
                self.carry += view[:take]
                view = view[take:]
                if len(self.carry) < SEGMENT_SIZE:
                    continue
                yield from self._seal(self.carry)
                self.carry = bytearray()
            while len(view) >= SEGMENT_SIZE:
                yield from self._seal(view[:SEGMENT_SIZE])
                view = view[SEGMENT_SIZE:]
            self.carry += view
        self.done = True

    def _seal(self, segment: bytearray | memoryview) -> Iterator[bytes]:
        if self.index == 0:
            yield self.header
        sealed = self.cipher.encrypt_segment(self.index, segment, last=False)
        self.index += 1
        yield sealed


def _cut(segments: Iterator[bytes], skip: int, length: int) -> Iterator[bytes]:
    """Drop `skip` bytes, keep `length`, and still drain the rest so every tag is checked."""
    for plain in segments:
        if skip >= len(plain):
            skip -= len(plain)
            continue
        piece = plain[skip : skip + length] if skip or len(plain) > length else plain
        skip = 0
        length -= len(piece)
        if piece:
            yield piece


def _cipher_for(state: WriterState, file_key: bytes, aad: bytes) -> SegmentCipher:
    if state.upload.key != state.blob_key or state.upload.size != _stored_size(state.received):
        raise StreamCorrupted(f"writer state of {state.blob_key!r} is inconsistent")
    return SegmentCipher(file_key, StreamHeader.parse(state.header), aad)


def _stored_size(received: int) -> int:
    """Bytes in the store once `received` plaintext bytes are in: the header and whole segments."""
    whole = received // SEGMENT_SIZE
    return HEADER_SIZE + whole * CIPHER_SEGMENT_SIZE if whole else 0


def _pending_aead(file_key: bytes) -> AESGCM:
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=_PENDING_LABEL).derive(file_key)
    return AESGCM(key)


def _pending_aad(header: bytes, received: int, aad: bytes) -> bytes:
    return b"\x00".join([_PENDING_LABEL, header, received.to_bytes(8, "big"), aad])


def _seal_pending(
    file_key: bytes, header: bytes, received: int, aad: bytes, tail: bytes | bytearray
) -> bytes:
    nonce = os.urandom(_NONCE_SIZE)
    sealed = _pending_aead(file_key).encrypt(nonce, tail, _pending_aad(header, received, aad))
    return nonce + sealed


def _open_pending(file_key: bytes, state: WriterState, aad: bytes) -> bytes:
    nonce, sealed = state.pending[:_NONCE_SIZE], state.pending[_NONCE_SIZE:]
    try:
        tail = _pending_aead(file_key).decrypt(
            nonce, sealed, _pending_aad(state.header, state.received, aad)
        )
    except (InvalidTag, ValueError):
        raise StreamCorrupted(f"pending bytes of {state.blob_key!r} failed to open") from None
    if len(tail) != state.received % SEGMENT_SIZE:
        raise StreamCorrupted(f"pending bytes of {state.blob_key!r} have the wrong length")
    return tail
