"""tus against a real uvicorn process: broken connections, restarts, a crash, a real tus client."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from tusclient import client as tus_client
from tusclient.uploader import Uploader

from app.settings import Settings
from tests.conftest import User, login, register, start_server, stop_server
from tests.evidence import support as s
from tests.evidence.conftest import uploads_in_progress

MiB = 1024 * 1024


def _user(http: httpx.Client, name: str) -> User:
    handle = register(http, name)  # type: ignore[arg-type]
    return login(http, handle)  # type: ignore[arg-type]


def _send_part_then_hang_up(
    url: str, user: User, location: str, offset: int, body: bytes, total: int
) -> None:
    """A PATCH that announces `total` bytes, sends `body`, and drops the connection."""
    parts = urlsplit(url)
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {user.access}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
        f"Content-Length: {total}\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(head + body)
        time.sleep(0.5)


def _resume(http: httpx.Client, user: User, location: str, data: bytes) -> int:
    """What a tus client does after a failure: HEAD for the offset, PATCH the rest."""
    deadline = time.monotonic() + 20
    while True:
        offset = int(s.head(http, user.auth, location).headers["Upload-Offset"])
        response = s.patch(http, user.auth, location, offset, data[offset:])
        if response.status_code == 204:
            return offset
        assert response.status_code == 409, response.text  # the old request still finishing
        assert time.monotonic() < deadline
        time.sleep(0.2)


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_an_interrupted_upload_resumes_also_after_a_restart(
    settings: Settings, app: FastAPI, tmp_path: Path
) -> None:
    data = s.big_jpeg(6 * MiB + 12345)
    server = start_server(settings, tmp_path / "first.log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            user = _user(http, "resumer")
            location = s.create_upload(http, user.auth, len(data), filename="long.mp4")
            _send_part_then_hang_up(server.url, user, location, 0, data[: 3 * MiB + 17], len(data))
            deadline = time.monotonic() + 10
            while (kept := int(s.head(http, user.auth, location).headers["Upload-Offset"])) == 0:
                assert time.monotonic() < deadline, "the bytes that arrived were not kept"
                time.sleep(0.1)
            assert 0 < kept <= 3 * MiB + 17
    finally:
        stop_server(server)
    server = start_server(settings, tmp_path / "second.log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert s.head(http, user.auth, location).headers["Upload-Offset"] == str(kept)
            _resume(http, user, location, data)
            evidence_id = location.rsplit("/", 1)[-1]
            record = http.get(f"/v1/evidence/{evidence_id}", headers=user.auth).json()
            assert record["sha256"] == s.sha256(data)
            content = http.get(f"/v1/evidence/{evidence_id}/content", headers=user.auth)
            assert hashlib.sha256(content.content).hexdigest() == s.sha256(data)
    finally:
        stop_server(server)
    assert uploads_in_progress(app) == []


def test_an_upload_resumes_after_the_server_is_killed_mid_request(
    settings: Settings, app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPLOAD_LEASE_SECONDS", "2")
    data = s.big_jpeg(4 * MiB + 1)
    server = start_server(settings, tmp_path / "first.log")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        user = _user(http, "crash-victim")
        location = s.create_upload(http, user.auth, len(data))
        assert s.patch(http, user.auth, location, 0, data[:MiB]).status_code == 204

        def slow() -> Iterator[bytes]:
            yield data[MiB : 2 * MiB]
            time.sleep(30)  # never finishes: the server dies first
            yield data[2 * MiB :]

        def hanging_patch() -> None:
            headers = {**user.auth, **s.TUS, **s.OFFSET_STREAM, "Upload-Offset": str(MiB)}
            headers["Content-Length"] = str(len(data) - MiB)
            with contextlib.suppress(httpx.HTTPError):
                http.patch(location, headers=headers, content=slow(), timeout=5)

        thread = threading.Thread(target=hanging_patch, daemon=True)
        thread.start()
        time.sleep(1)
        # While that request holds the upload, nobody else may write to it.
        second = s.patch(http, user.auth, location, MiB, data[MiB:])
        assert second.status_code == 409
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
    server = start_server(settings, tmp_path / "second.log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert s.head(http, user.auth, location).headers["Upload-Offset"] == str(MiB)
            assert _resume(http, user, location, data) == MiB  # once the dead lease ran out
            evidence_id = location.rsplit("/", 1)[-1]
            record = http.get(f"/v1/evidence/{evidence_id}", headers=user.auth).json()
            assert record["sha256"] == s.sha256(data)
            assert http.get("/v1/diary/integrity", headers=user.auth).json()["ok"] is True
    finally:
        stop_server(server)


class Sha256Uploader(Uploader):
    """tuspy checksums with SHA-1 unless told otherwise; the server takes SHA-256 too."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def test_a_real_tus_client_uploads_a_file_end_to_end(
    settings: Settings, app: FastAPI, tmp_path: Path
) -> None:
    data = s.big_jpeg(3 * MiB + 7)
    source = tmp_path / "IMG_0042.jpg"
    source.write_bytes(data)
    server = start_server(settings, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            user = _user(http, "tuspy-user")
            client = tus_client.TusClient(server.url + "/v1/uploads", headers=user.auth)
            metadata = {"filename": "IMG_0042.jpg", "filetype": "text/html", "caption": "car"}
            # tuspy leaks the file it opens from a path; a stream we close ourselves does not.
            with (
                source.open("rb") as first,
                source.open("rb") as second,
                source.open("rb") as third,
                source.open("rb") as fourth,
            ):
                plain = client.uploader(file_stream=first, chunk_size=MiB, metadata=metadata)
                plain.upload()
                checked = Sha256Uploader(
                    file_stream=second, client=client, chunk_size=MiB, upload_checksum=True
                )
                checked.upload()
                # tuspy's own default: SHA-1 on every chunk; one chunk now, the rest resumed
                # by a new uploader that only knows the URL (an app restarted mid-upload).
                stock = client.uploader(file_stream=third, chunk_size=MiB, upload_checksum=True)
                stock.upload_chunk()
                resumed = client.uploader(
                    file_stream=fourth, url=stock.url, chunk_size=MiB, upload_checksum=True
                )
                assert resumed.offset == MiB
                resumed.upload()
            for uploader in (plain, checked, resumed):
                assert uploader.url is not None
                evidence_id = uploader.url.rstrip("/").rsplit("/", 1)[-1]
                record = http.get(f"/v1/evidence/{evidence_id}", headers=user.auth).json()
                assert (record["sha256"], record["media_type"]) == (s.sha256(data), "image/jpeg")
                content = http.get(f"/v1/evidence/{evidence_id}/content", headers=user.auth)
                assert content.content == data
            assert (record["file_name"], record["caption"]) == ("", "")
            first = http.get("/v1/evidence", headers=user.auth).json()["items"][0]
            assert (first["file_name"], first["caption"]) == ("IMG_0042.jpg", "car")
    finally:
        stop_server(server)
