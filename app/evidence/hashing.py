"""The SHA-256 of a tus upload, kept running across its requests where that is possible.

A hashlib object cannot be saved in the database, so by default an upload's SHA-256 is
computed at completion by decrypting the stored file once (app.blobs.encrypted.finish).
When every request of an upload reaches the same server process (one client, one instance:
the usual case), this process-local cache lets each PATCH continue the previous one's hash,
and completion skips that extra pass.

It is only a cache. An entry is used only if it was made for exactly the writer state the
database now holds (the state's sealed tail has a random nonce, so two saves never compare
equal), so a request that failed, ran in another process, or was never saved cannot leave a
hash that does not match the stored bytes; any miss falls back to the verifying pass.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from typing import Any

from app.blobs.encrypted import WriterState

MAX_ENTRIES = 4096

_lock = threading.Lock()
_running: OrderedDict[uuid.UUID, tuple[WriterState, Any]] = OrderedDict()


def resume(upload_id: uuid.UUID, state: WriterState | None) -> Any | None:
    """A hash of every byte before `state` (a copy to extend), or None if not known here."""
    if state is None:
        return hashlib.sha256()
    with _lock:
        entry = _running.get(upload_id)
    if entry is None or entry[0] != state:
        return None
    return entry[1].copy()


def remember(upload_id: uuid.UUID, state: WriterState, digest: Any | None) -> None:
    """After `state` was saved: `digest` covers every byte up to it."""
    with _lock:
        _running.pop(upload_id, None)
        if digest is None:
            return
        _running[upload_id] = (state, digest)
        while len(_running) > MAX_ENTRIES:
            _running.popitem(last=False)


def final(upload_id: uuid.UUID, state: WriterState) -> str | None:
    """The upload's SHA-256 (hex) if the hash of every byte up to `state` is known here."""
    digest = resume(upload_id, state)
    return None if digest is None else str(digest.hexdigest())


def forget(upload_id: uuid.UUID) -> None:
    with _lock:
        _running.pop(upload_id, None)
