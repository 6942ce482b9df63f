"""GET /v1/evidence/{id}/content: exact ranges, safe headers, and no altered byte ever served."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.crypto.stream import CIPHER_SEGMENT_SIZE, HEADER_SIZE, SEGMENT_SIZE
from app.models import Evidence
from app.settings import Settings
from tests.conftest import User, login, register, start_server, stop_server, stored_bytes
from tests.evidence import support as s
from tests.evidence.conftest import flip_byte, stored_blobs

SIZE = 5 * SEGMENT_SIZE + 777


@pytest.fixture
def uploaded(client: TestClient, alice: User) -> tuple[str, bytes]:
    data = s.big_jpeg(SIZE)
    return s.upload(
        client, alice.auth, data, chunk=100_000, filename="a/b/..\\Ph\u202eoto 1.jpg"
    ), data


def _blob_key(app: FastAPI, evidence_id: str) -> str:
    with app.state.ctx.sessionmaker() as session:
        row = session.scalars(
            select(Evidence).where(Evidence.id == uuid.UUID(evidence_id))
        ).one_or_none()
        assert row is not None and row.blob_key is not None
        return row.blob_key


def test_the_whole_file_with_safe_headers(
    client: TestClient, alice: User, uploaded: tuple[str, bytes]
) -> None:
    evidence_id, data = uploaded
    response = client.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth)
    assert response.status_code == 200
    assert response.content == data
    headers = response.headers
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Length"] == str(len(data))
    assert headers["ETag"] == f'"{s.sha256(data)}"'
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # Only the last path part, no control characters (the RTL override is dropped).
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"Photo 1.jpg\"; filename*=UTF-8''Photo%201.jpg"
    )


RANGES = [
    ("bytes=0-0", 0, 1),
    ("bytes=0-99", 0, 100),
    (f"bytes={SEGMENT_SIZE - 1}-{SEGMENT_SIZE}", SEGMENT_SIZE - 1, SEGMENT_SIZE + 1),
    (f"bytes={2 * SEGMENT_SIZE}-{3 * SEGMENT_SIZE + 5}", 2 * SEGMENT_SIZE, 3 * SEGMENT_SIZE + 6),
    ("bytes=100000-", 100000, SIZE),
    ("bytes=-10", SIZE - 10, SIZE),
    (f"bytes=-{SIZE + 50}", 0, SIZE),
    (f"bytes={SIZE - 1}-{SIZE + 1000}", SIZE - 1, SIZE),
]


def test_a_range_returns_exactly_those_bytes(
    client: TestClient, alice: User, uploaded: tuple[str, bytes]
) -> None:
    evidence_id, data = uploaded
    for header, start, end in RANGES:
        response = client.get(
            f"/v1/evidence/{evidence_id}/content", headers={**alice.auth, "Range": header}
        )
        assert response.status_code == 206, header
        assert response.content == data[start:end], header
        assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/{SIZE}"
        assert response.headers["Content-Length"] == str(end - start)


def test_unsatisfiable_and_ignored_ranges(
    client: TestClient, alice: User, uploaded: tuple[str, bytes]
) -> None:
    evidence_id, data = uploaded
    path = f"/v1/evidence/{evidence_id}/content"
    for header in (f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=-0"):
        response = client.get(path, headers={**alice.auth, "Range": header})
        assert response.status_code == 416, header
        assert response.headers["Content-Range"] == f"bytes */{SIZE}"
        assert response.headers["content-type"] == "application/problem+json"
    for header in ("bytes=0-1,5-6", "items=0-1", "bytes=9-3", "bytes=x-y"):
        response = client.get(path, headers={**alice.auth, "Range": header})
        assert (response.status_code, response.content == data) == (200, True), header
    stale = {**alice.auth, "Range": "bytes=0-9", "If-Range": '"an old etag"'}
    assert client.get(path, headers=stale).status_code == 200
    fresh = {**alice.auth, "Range": "bytes=0-9", "If-Range": f'"{s.sha256(data)}"'}
    assert client.get(path, headers=fresh).content == data[:10]


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_a_flipped_stored_byte_is_never_served(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    data = s.big_jpeg(SIZE)
    evidence_id = s.upload(client, alice.auth, data, chunk=SIZE)
    flip_byte(app, _blob_key(app, evidence_id), HEADER_SIZE + 10)
    path = f"/v1/evidence/{evidence_id}/content"
    response = client.get(path, headers=alice.auth)
    assert response.status_code == 500
    assert response.json()["type"].endswith("/evidence-integrity")
    assert data[:1000] not in response.content
    # A range inside an untouched segment is still authentic and is served.
    later = client.get(path, headers={**alice.auth, "Range": f"bytes={SEGMENT_SIZE}-"})
    assert later.content == data[SEGMENT_SIZE:]


def test_a_blob_cut_short_is_never_served(client: TestClient, alice: User, app: FastAPI) -> None:
    data = s.big_jpeg(SIZE)
    evidence_id = s.upload(client, alice.auth, data)
    path = app.state.ctx.blobs.root / _blob_key(app, evidence_id)
    path.write_bytes(path.read_bytes()[: HEADER_SIZE + 2 * CIPHER_SEGMENT_SIZE])
    response = client.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth)
    assert response.status_code == 500


def test_damage_late_in_a_file_breaks_the_download_on_a_real_server(
    settings: Settings, app: FastAPI, tmp_path: Path
) -> None:
    size = 3 * 1024 * 1024 + 5
    data = s.big_jpeg(size)
    server = start_server(settings, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            handle = register(http, "tamper-victim")  # type: ignore[arg-type]
            user = login(http, handle)  # type: ignore[arg-type]
            evidence_id = s.upload(http, user.auth, data, chunk=size)
            flip_byte(app, _blob_key(app, evidence_id), HEADER_SIZE + 40 * CIPHER_SEGMENT_SIZE)
            received = bytearray()
            path = f"/v1/evidence/{evidence_id}/content"
            with (
                pytest.raises(httpx.HTTPError),  # the connection breaks before the end
                http.stream("GET", path, headers=user.auth) as response,
            ):
                assert response.status_code == 200
                for chunk in response.iter_bytes():
                    received += chunk
            assert len(received) < size
            assert bytes(received) == data[: len(received)]  # what came was authentic
    finally:
        stop_server(server)
    failure = next(
        json.loads(line)
        for line in server.log_text().splitlines()
        if "evidence failed its integrity check" in line
    )
    assert failure["evidence_id"] == evidence_id  # the operator can find the file
    assert failure["level"] == "ERROR"


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_no_run_of_the_plaintext_is_stored_anywhere(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    data = s.big_jpeg(2 * 1024 * 1024 + 99)
    location = s.create_upload(
        client, alice.auth, len(data), filename="MARKER-NAME.jpg", caption="MARKER-CAPTION"
    )
    # Stop half-way too, so the pending tail and the staged parts are scanned as well.
    assert s.patch(client, alice.auth, location, 0, data[: 1024 * 1024 + 333]).status_code == 204
    stored = b"".join(stored_blobs(app).values())
    assert s.MARKER not in stored
    assert s.patch(
        client, alice.auth, location, 1024 * 1024 + 333, data[1024 * 1024 + 333 :]
    ).is_success
    s.multipart(client, alice.auth, data[:200_000], name="MARKER-NAME2.jpg")
    stored = b"".join(stored_blobs(app).values()) + stored_bytes(app)
    assert s.MARKER not in stored
    for needle in (b"MARKER-NAME", b"MARKER-CAPTION", b"Phonemaker"):
        assert needle not in stored
    for offset in range(0, len(data) - 32, 65_537):
        assert data[offset : offset + 32] not in stored
