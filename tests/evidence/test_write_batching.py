"""A PATCH's bytes are appended without an fsync per batch; the offset saved is still durable.

The store gets each batch with `durable=False` and one `flush` before the state is saved
(app.evidence.resumable). These tests drive a PATCH through the ASGI app directly, so the
body can be cut in the middle of a batch exactly as a client going away cuts it, and watch
what the store has made durable each time the upload's state is saved.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.blobs import UploadState
from app.blobs.local import LocalBlobStore
from app.evidence import resumable, uploads
from tests.conftest import User
from tests.evidence import support as s

MiB = 1024 * 1024
PIECE = 256 * 1024


class DurableWatch:
    """What the store holds durably for each upload, and every saved state beside it."""

    def __init__(self, store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.durable: dict[str, int] = {}
        self.saves: list[tuple[int, int]] = []  # (stored bytes the state counts, durable bytes)
        append, flush, start = store.append, store.flush, store.start_upload
        save = uploads.save

        def watched_start(key: str) -> UploadState:
            state = start(key)
            self.durable[key] = 0
            return state

        def watched_append(
            state: UploadState, chunks: Iterable[bytes], *, durable: bool = True
        ) -> UploadState:
            new = append(state, chunks, durable=durable)
            if durable:
                self.durable[state.key] = new.size
            return new

        def watched_flush(state: UploadState) -> None:
            flush(state)
            self.durable[state.key] = state.size

        def watched_save(factory: Any, held: Any, state: Any, **kwargs: Any) -> None:
            self.saves.append((state.upload.size, self.durable.get(state.upload.key, 0)))
            save(factory, held, state, **kwargs)

        monkeypatch.setattr(store, "start_upload", watched_start)
        monkeypatch.setattr(store, "append", watched_append)
        monkeypatch.setattr(store, "flush", watched_flush)
        monkeypatch.setattr(uploads, "save", watched_save)

    def every_save_was_durable(self) -> bool:
        return bool(self.saves) and all(counted <= durable for counted, durable in self.saves)


def _cut_patch(
    client: TestClient,
    app: FastAPI,
    user: User,
    location: str,
    offset: int,
    sent: bytes,
    length: int,
) -> tuple[int, dict[str, str]]:
    """A PATCH promising `length` bytes whose client goes away after `sent`."""
    pieces = [sent[at : at + PIECE] for at in range(0, len(sent), PIECE)]
    headers = {
        "host": "testserver",
        "authorization": user.auth["Authorization"],
        "tus-resumable": "1.0.0",
        "upload-offset": str(offset),
        "content-type": "application/offset+octet-stream",
        "content-length": str(length),
    }
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "PATCH",
        "scheme": "http",
        "path": location,
        "raw_path": location.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": dict(client.app_state),
    }
    answered: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pieces:
            return {"type": "http.request", "body": pieces.pop(0), "more_body": True}
        return {"type": "http.disconnect"}  # the client went away mid-body

    async def send(message: dict[str, Any]) -> None:
        answered.append(message)

    async def drive() -> None:
        await app(scope, receive, send)

    assert client.portal is not None
    client.portal.call(drive)
    start = next(m for m in answered if m["type"] == "http.response.start")
    got = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], got


def _lose_what_was_not_flushed(store: LocalBlobStore, watch: DurableWatch, location: str) -> None:
    """What a power cut does to the upload file: bytes never fsynced are gone."""
    (key,) = watch.durable
    path = store.root / ".uploads" / key
    assert path.exists(), location
    os.truncate(path, watch.durable[key])


def test_a_patch_cut_mid_batch_saves_only_durable_bytes_and_resumes(
    client: TestClient, app: FastAPI, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.state.ctx.blobs
    assert isinstance(store, LocalBlobStore)
    watch = DurableWatch(store, monkeypatch)
    batch = resumable.WRITE_BATCH_BYTES
    data = s.big_jpeg(2 * batch + 5 * MiB)
    location = s.create_upload(client, alice.auth, len(data))
    # One whole batch and 3 MiB of the next, not on a segment boundary either.
    cut = batch + 3 * MiB + 12_345
    status, headers = _cut_patch(client, app, alice, location, 0, data[:cut], len(data))
    assert (status, headers["upload-offset"]) == (204, str(cut))
    assert watch.every_save_was_durable(), watch.saves
    _lose_what_was_not_flushed(store, watch, location)

    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == str(cut)
    done = s.patch(client, alice.auth, location, cut, data[cut:])
    assert done.status_code == 204, done.text
    assert watch.every_save_was_durable(), watch.saves
    evidence = client.get(f"/v1/evidence/{location.rsplit('/', 1)[1]}", headers=alice.auth)
    assert evidence.json()["sha256"] == s.sha256(data)


def test_a_long_patch_checkpoints_durably_on_the_way(
    client: TestClient, app: FastAPI, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.state.ctx.blobs
    assert isinstance(store, LocalBlobStore)
    watch = DurableWatch(store, monkeypatch)
    monkeypatch.setattr(resumable, "CHECKPOINT_BYTES", resumable.WRITE_BATCH_BYTES)
    data = s.big_jpeg(3 * resumable.WRITE_BATCH_BYTES + 777)
    location = s.create_upload(client, alice.auth, len(data))
    cut = len(data) - 1000
    status, headers = _cut_patch(client, app, alice, location, 0, data[:cut], len(data))
    assert (status, headers["upload-offset"]) == (204, str(cut))
    # The first save starts the upload; then a checkpoint per batch, then the end of the body.
    assert len(watch.saves) >= 4 and watch.every_save_was_durable(), watch.saves
    _lose_what_was_not_flushed(store, watch, location)
    assert s.patch(client, alice.auth, location, cut, data[cut:]).status_code == 204
    evidence = client.get(f"/v1/evidence/{location.rsplit('/', 1)[1]}", headers=alice.auth)
    assert evidence.json()["sha256"] == s.sha256(data)
