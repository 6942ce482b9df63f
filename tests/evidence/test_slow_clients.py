"""Slow clients (TESTING.md "Concurrency": nothing waits while holding something scarce).

Against a real server over raw sockets: bodies that trickle cannot take evidence offline for
anyone else, a body that stalls is cut off with its offset saved, and one account cannot hold
more than its share of transfers.
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.conftest import LiveServer, User, new_user, start_server, stop_server
from tests.evidence import support as s


def _open_patch(
    server: LiveServer, user: User, location: str, length: int, sent: bytes
) -> socket.socket:
    """A PATCH whose headers promise `length` bytes, of which only `sent` are sent (for now)."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {user.auth['Authorization']}\r\nTus-Resumable: 1.0.0\r\n"
        "Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + sent)
    return sock


def _answer(sock: socket.socket) -> tuple[int, str]:
    """The response's status, and its headers and body as text."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    status_line, _, rest = (head + b"\r\n\r\n" + body).decode(errors="replace").partition("\r\n")
    return int(status_line.split()[1]), rest


@pytest.fixture
def server(
    request: pytest.FixtureRequest, settings: Settings, app: object, tmp_path: Path
) -> Iterator[LiveServer]:
    live = start_server(settings, tmp_path / "server.log", env=getattr(request, "param", {}))
    yield live
    stop_server(live)


def test_slow_bodies_cannot_take_evidence_offline_for_another_account(
    client: TestClient, server: LiveServer, alice: User
) -> None:
    photo = s.jpeg_with_exif()
    evidence_id = s.new_evidence(client, alice.auth)
    slow = []
    # 24 bodies, more than the 16 transfer threads, from six accounts (four each, their cap).
    for n in range(6):
        user = new_user(client, f"slow{n}")
        for _ in range(4):
            location = s.create_upload(client, user.auth, 10_000)
            slow.append(_open_patch(server, user, location, 10_000, b"x" * 10))
    time.sleep(0.5)  # the server has every slow body open and waiting
    try:
        with httpx.Client(base_url=server.url, timeout=10) as other:
            got = other.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth)
            assert got.status_code == 200 and got.content == photo
            made = other.post(
                "/v1/incidents",
                headers=alice.auth,
                json={
                    "occurred_at": "2024-03-01T20:05:00Z",
                    "behaviours": ["loitering"],
                },
            )
            assert made.status_code == 201, made.text
            uploaded = s.upload(other, alice.auth, photo)
            assert other.get(f"/v1/evidence/{uploaded}", headers=alice.auth).json()["sha256"] == (
                hashlib.sha256(photo).hexdigest()
            )
    finally:
        for sock in slow:
            sock.close()


STALLS = {"BODY_IDLE_SECONDS": "1", "BODY_RATE_GRACE_SECONDS": "2", "BODY_MIN_RATE": "1000"}


@pytest.mark.parametrize("server", [STALLS], indirect=True)
def test_a_stalled_patch_is_cut_off_with_what_arrived_saved_and_resumes(
    client: TestClient, server: LiveServer, alice: User
) -> None:
    photo = s.jpeg_with_exif()
    location = s.create_upload(client, alice.auth, len(photo))
    sock = _open_patch(server, alice, location, len(photo), photo[:700])
    try:
        status, rest = _answer(sock)  # nothing more is sent: idle for a second
    finally:
        sock.close()
    assert status == 408 and "upload-offset: 700" in rest.lower(), rest
    assert "body-too-slow" in rest
    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == "700"
    done = s.patch(client, alice.auth, location, 700, photo[700:])
    assert done.status_code == 204, done.text
    evidence = client.get(f"/v1/evidence/{location.rsplit('/', 1)[1]}", headers=alice.auth)
    assert evidence.json()["sha256"] == hashlib.sha256(photo).hexdigest()


@pytest.mark.parametrize("server", [STALLS], indirect=True)
def test_a_body_that_trickles_under_the_minimum_rate_is_cut_off(
    client: TestClient, server: LiveServer, alice: User
) -> None:
    location = s.create_upload(client, alice.auth, 100_000)
    sock = _open_patch(server, alice, location, 100_000, b"x")
    started = time.monotonic()
    status = None
    try:
        sock.settimeout(0.2)
        while time.monotonic() - started < 20 and status is None:
            try:
                sock.sendall(b"x")  # about 5 bytes a second, never idle for a second
                status, rest = _answer(sock)
            except TimeoutError:
                continue
            except OSError:
                break
        if status is None:
            sock.settimeout(5)
            status, rest = _answer(sock)
    finally:
        sock.close()
    assert status == 408, rest
    offset = int(s.head(client, alice.auth, location).headers["Upload-Offset"])
    assert 0 < offset < 200


@pytest.mark.parametrize("server", [STALLS], indirect=True)
def test_a_stalled_one_request_upload_keeps_nothing(
    client: TestClient, server: LiveServer, alice: User
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
    sock.sendall(
        f"POST /v1/evidence HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
        f"{alice.auth['Authorization']}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: 50000\r\n\r\n".encode()
        + body
        + s.jpeg_with_exif()[:500]
    )
    try:
        status, rest = _answer(sock)
    finally:
        sock.close()
    assert status == 408 and "body-too-slow" in rest, rest
    assert client.get("/v1/evidence", headers=alice.auth).json()["items"] == []


@pytest.mark.parametrize("server", [{"MAX_TRANSFERS_PER_ACCOUNT": "2"}], indirect=True)
def test_one_account_moves_at_most_its_share_of_bodies_at_once(
    client: TestClient, server: LiveServer, alice: User, bob: User
) -> None:
    held = [
        _open_patch(server, alice, s.create_upload(client, alice.auth, 1000), 1000, b"x")
        for _ in range(2)
    ]
    time.sleep(0.5)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as other:
            third = s.patch(
                other, alice.auth, s.create_upload(client, alice.auth, 10), 0, b"y" * 10
            )
            assert third.status_code == 429, third.text
            assert third.headers["Retry-After"] and "too-many-transfers" in third.text
            evidence_id = s.new_evidence(client, alice.auth)
            refused = other.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth)
            assert refused.status_code == 429
            theirs = s.patch(other, bob.auth, s.create_upload(client, bob.auth, 10), 0, b"y" * 10)
            assert theirs.status_code == 204, theirs.text
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.5)  # the server notices the closed bodies and gives the slots back
    with httpx.Client(base_url=server.url, timeout=10) as other:
        again = other.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth)
        assert again.status_code == 200


@pytest.mark.parametrize(
    "server", [{"BODY_IDLE_SECONDS": "1", "MAX_TRANSFERS_PER_ACCOUNT": "1"}], indirect=True
)
def test_a_download_its_client_stops_reading_is_cut_off_and_frees_the_slot(
    client: TestClient, server: LiveServer, alice: User
) -> None:
    big = s.big_jpeg(12 * 1024 * 1024)  # far more than the socket buffers hold
    response = s.multipart(client, alice.auth, big)
    assert response.status_code == 201, response.text
    evidence_id = response.json()["id"]
    host, port = server.url.removeprefix("http://").split(":")
    stalled = socket.create_connection((host, int(port)), timeout=30)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(
        f"GET /v1/evidence/{evidence_id}/content HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {alice.auth['Authorization']}\r\n\r\n".encode()
    )
    try:
        time.sleep(0.5)  # the download has its slot and fills the buffers; nothing is read
        with httpx.Client(base_url=server.url, timeout=10) as other:
            assert other.get(f"/v1/evidence/{evidence_id}", headers=alice.auth).status_code == 200
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                got = other.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth)
                if got.status_code != 429:
                    break
                time.sleep(0.5)
            assert got.status_code == 200 and got.content == big
    finally:
        stalled.close()
