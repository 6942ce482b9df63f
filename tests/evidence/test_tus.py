"""tus 1.0 under /v1/uploads: the protocol, its limits, and what a finished upload records."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.db import utcnow
from app.evidence import uploads
from app.models import ChainEvent, Evidence, EvidenceUpload
from app.settings import Settings
from tests.conftest import User
from tests.evidence import support as s
from tests.evidence.conftest import stored_blobs, uploads_in_progress

MiB = 1024 * 1024


def _upload_row(app: FastAPI, location: str) -> EvidenceUpload | None:
    with app.state.ctx.sessionmaker() as session:
        return session.get(EvidenceUpload, uuid.UUID(location.rsplit("/", 1)[-1]))


def _events(app: FastAPI) -> list[ChainEvent]:
    with app.state.ctx.sessionmaker() as session:
        return list(session.scalars(select(ChainEvent).order_by(ChainEvent.seq)))


def test_options_advertises_version_extensions_limit_and_checksum(
    client: TestClient, settings: Settings
) -> None:
    response = client.options("/v1/uploads")
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Extension"] == "creation,termination,checksum,expiration"
    assert response.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"  # tus: sha1 is a MUST
    accepted = response.headers["Chronicle-Accepted-Types"]
    assert (
        "image/jpeg" in accepted and "message/rfc822" in accepted and "application/zip" in accepted
    )
    assert response.headers["Tus-Max-Size"] == str(settings.max_upload_bytes)


def test_a_request_in_another_tus_version_is_412(client: TestClient, alice: User) -> None:
    location = s.create_upload(client, alice.auth, 10)
    for method, path in (("POST", "/v1/uploads"), ("HEAD", location), ("PATCH", location)):
        for version in (None, "0.2.2"):
            headers = {**alice.auth, "Upload-Length": "10", **s.OFFSET_STREAM}
            headers["Upload-Offset"] = "0"
            if version:
                headers["Tus-Resumable"] = version
            response = client.request(method, path, headers=headers, content=b"x")
            assert response.status_code == 412, (method, version)
            if method != "HEAD":  # a HEAD answer has no body
                problem = response.json()
                assert problem["type"].endswith("/tus-version-unsupported")
                assert problem["title"] == "This tus version is not supported"
            assert response.headers["Tus-Version"] == "1.0.0"
            assert response.headers["Tus-Resumable"] == "1.0.0"
    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == "0"


def test_every_answer_carries_tus_resumable_errors_included(
    client: TestClient, alice: User
) -> None:
    anonymous = s.create(client, {}, 10)
    assert anonymous.status_code == 401
    assert anonymous.headers["Tus-Resumable"] == "1.0.0"
    assert anonymous.headers["content-type"] == "application/problem+json"
    missing = s.head(client, alice.auth, f"/v1/uploads/{uuid.uuid4()}")
    assert (missing.status_code, missing.headers["Tus-Resumable"]) == (404, "1.0.0")


def test_creation_answers_location_and_expiry(client: TestClient, alice: User) -> None:
    response = s.create(client, alice.auth, 1234, filename="clip.mp4", caption="the car")
    assert response.status_code == 201, response.text
    assert response.headers["Location"].startswith("/v1/uploads/")
    assert response.headers["Upload-Expires"].endswith(" GMT")
    status = s.head(client, alice.auth, response.headers["Location"])
    assert status.status_code == 200
    assert status.headers["Upload-Offset"] == "0"
    assert status.headers["Upload-Length"] == "1234"
    assert status.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_chunked_upload_records_the_file_its_sha256_and_a_chain_event(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    data = s.big_jpeg(2 * MiB + 4321)
    evidence_id = s.upload(
        client, alice.auth, data, chunk=700_001, filename="Garden ☂.jpg", caption="at the gate"
    )
    record = client.get(f"/v1/evidence/{evidence_id}", headers=alice.auth).json()
    assert record["sha256"] == s.sha256(data)
    assert (record["size"], record["media_type"]) == (len(data), "image/jpeg")
    assert (record["file_name"], record["caption"]) == ("Garden ☂.jpg", "at the gate")
    assert record["capture"]["device"] == "Phonemaker Model 7"
    content = client.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth)
    assert content.content == data
    (event,) = _events(app)
    assert (event.kind, str(event.object_id), event.revision) == (
        "evidence.added",
        evidence_id,
        1,
    )
    assert event.content_sha256 == s.sha256(data)
    assert uploads_in_progress(app) == []
    finished = s.head(client, alice.auth, f"/v1/uploads/{evidence_id}")
    assert finished.headers["Upload-Offset"] == str(len(data))
    assert "Upload-Expires" not in finished.headers


def test_a_wrong_offset_is_409_and_changes_nothing(client: TestClient, alice: User) -> None:
    data = s.jpeg_with_exif()
    location = s.create_upload(client, alice.auth, len(data))
    assert s.patch(client, alice.auth, location, 0, data[:100]).status_code == 204
    for offset in (0, 99, 101, len(data)):
        response = s.patch(client, alice.auth, location, offset, data[offset : offset + 10])
        assert response.status_code == 409
        assert response.headers["Upload-Offset"] == "100"
    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == "100"
    assert s.patch(client, alice.auth, location, 100, data[100:]).status_code == 204


def test_a_checksum_mismatch_is_460_and_keeps_nothing_of_that_patch(
    client: TestClient, alice: User
) -> None:
    data = s.big_jpeg(300_000)
    location = s.create_upload(client, alice.auth, len(data))
    good = hashlib.sha256(data[:200_000]).digest()
    bad = hashlib.sha256(b"something else").digest()
    response = s.patch(client, alice.auth, location, 0, data[:200_000], checksum=bad)
    assert response.status_code == 460
    assert response.headers["content-type"] == "application/problem+json"
    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == "0"
    response = s.patch(client, alice.auth, location, 0, data[:200_000], checksum=good)
    assert (response.status_code, response.headers["Upload-Offset"]) == (204, "200000")
    rest = hashlib.sha256(data[200_000:]).digest()
    assert s.patch(client, alice.auth, location, 200_000, data[200_000:], checksum=rest).is_success
    evidence_id = location.rsplit("/", 1)[-1]
    assert client.get(f"/v1/evidence/{evidence_id}", headers=alice.auth).json()["sha256"] == (
        s.sha256(data)
    )


def test_an_unsupported_checksum_algorithm_is_400(client: TestClient, alice: User) -> None:
    location = s.create_upload(client, alice.auth, 10)
    headers = {**alice.auth, **s.TUS, **s.OFFSET_STREAM, "Upload-Offset": "0"}
    headers["Upload-Checksum"] = "md5 XrY7u+Ae7tCTyyK7j1rNww=="
    response = client.patch(location, headers=headers, content=b"0123456789")
    assert response.status_code == 400
    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == "0"


def test_a_patch_must_be_offset_octet_stream(client: TestClient, alice: User) -> None:
    location = s.create_upload(client, alice.auth, 10)
    headers = {**alice.auth, **s.TUS, "Upload-Offset": "0", "Content-Type": "text/plain"}
    assert client.patch(location, headers=headers, content=b"0123456789").status_code == 415


def test_more_bytes_than_the_upload_length_are_413_and_not_kept(
    client: TestClient, alice: User
) -> None:
    location = s.create_upload(client, alice.auth, 100)
    response = s.patch(client, alice.auth, location, 0, b"A" * 101)
    assert response.status_code == 413

    def body():  # type: ignore[no-untyped-def]  # no Content-Length: caught while streaming
        yield b"A" * 60
        yield b"A" * 60

    headers = {**alice.auth, **s.TUS, **s.OFFSET_STREAM, "Upload-Offset": "0"}
    assert client.patch(location, headers=headers, content=body()).status_code == 413
    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == "0"


def test_a_file_over_the_size_limit_is_413_at_creation(
    client: TestClient, alice: User, settings: Settings
) -> None:
    response = s.create(client, alice.auth, settings.max_upload_bytes + 1)
    assert response.status_code == 413
    assert s.create(client, alice.auth, 0).status_code == 415
    assert s.create(client, alice.auth, -1).status_code == 400
    assert client.post("/v1/uploads", headers={**alice.auth, **s.TUS}).status_code == 400


def test_quota_is_checked_at_creation_and_again_at_completion(
    database_url: str, alice: User, app: FastAPI
) -> None:
    quota = 100_000
    small = Settings(
        environment="test",
        data_dir=app.state.ctx.settings.data_dir,
        database_url=database_url,
        account_quota_bytes=quota,
    )
    from app.main import create_app

    limited = create_app(small)
    with TestClient(limited, raise_server_exceptions=False) as client:
        assert s.create(client, alice.auth, quota + 1).status_code == 413
        first = s.create_upload(client, alice.auth, 60_000)
        # The first upload's length is reserved, so a second that would not fit is refused.
        assert s.create(client, alice.auth, 50_000).status_code == 413
        data = s.big_jpeg(60_000)
        assert s.patch(client, alice.auth, first, 0, data).status_code == 204
        assert s.create(client, alice.auth, 50_000).status_code == 413
        # Stored evidence that grew past the quota meanwhile is caught at completion.
        second = s.create_upload(client, alice.auth, 40_000)
        with limited.state.ctx.sessionmaker.begin() as session:
            session.execute(update(Evidence).values(size=quota - 10_000))
        response = s.patch(client, alice.auth, second, 0, s.big_jpeg(40_000))
        assert response.status_code == 413
        assert response.json()["type"].endswith("/quota-exceeded")
        assert s.head(client, alice.auth, second).status_code == 404
    limited.state.ctx.engine.dispose()


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_a_disallowed_type_is_415_and_nothing_is_recorded_or_kept(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    elf = b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 800
    location = s.create_upload(
        client, alice.auth, len(elf), filename="photo.jpg", filetype="image/jpeg"
    )
    # Refused on its first bytes (the first PATCH), not after the whole file has been sent.
    response = s.patch(client, alice.auth, location, 0, elf[:100_000])
    assert response.status_code == 415
    assert "office documents" in response.json()["detail"]  # what is accepted, said up front
    assert response.headers["content-type"] == "application/problem+json"
    assert s.head(client, alice.auth, location).status_code == 404
    assert client.get("/v1/evidence", headers=alice.auth).json()["items"] == []
    assert _events(app) == []
    assert stored_blobs(app) == {}
    assert uploads_in_progress(app) == []


def test_another_accounts_upload_is_404_on_every_method(
    client: TestClient, alice: User, bob: User
) -> None:
    data = s.jpeg_with_exif()
    location = s.create_upload(client, alice.auth, len(data))
    assert s.patch(client, alice.auth, location, 0, data[:50]).status_code == 204
    assert s.head(client, bob.auth, location).status_code == 404
    assert s.patch(client, bob.auth, location, 50, data[50:]).status_code == 404
    assert client.delete(location, headers={**bob.auth, **s.TUS}).status_code == 404
    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == "50"


def test_a_second_writer_gets_409_while_the_first_holds_the_upload(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    data = s.jpeg_with_exif()
    location = s.create_upload(client, alice.auth, len(data))
    upload_id = uuid.UUID(location.rsplit("/", 1)[-1])
    account_id = _upload_row(app, location).account_id  # type: ignore[union-attr]
    ctx = app.state.ctx
    held = uploads.claim(ctx.sessionmaker, account_id, upload_id, 0, 60)
    response = s.patch(client, alice.auth, location, 0, data)
    assert response.status_code == 409
    assert response.json()["type"].endswith("/upload-busy")
    assert client.delete(location, headers={**alice.auth, **s.TUS}).status_code == 409
    uploads.release(ctx.sessionmaker, held)
    assert s.patch(client, alice.auth, location, 0, data).status_code == 204


def test_a_lease_left_by_a_dead_request_runs_out(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    data = s.jpeg_with_exif()
    location = s.create_upload(client, alice.auth, len(data))
    ctx = app.state.ctx
    upload_id = uuid.UUID(location.rsplit("/", 1)[-1])
    account_id = _upload_row(app, location).account_id  # type: ignore[union-attr]
    uploads.claim(ctx.sessionmaker, account_id, upload_id, 0, 60)
    assert s.patch(client, alice.auth, location, 0, data).status_code == 409
    with ctx.sessionmaker.begin() as session:
        session.execute(update(EvidenceUpload).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert s.patch(client, alice.auth, location, 0, data).status_code == 204


def test_termination_removes_the_upload_and_what_it_stored(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    data = s.big_jpeg(200_000)
    location = s.create_upload(client, alice.auth, len(data))
    assert s.patch(client, alice.auth, location, 0, data[:150_000]).status_code == 204
    assert stored_blobs(app) != {}
    response = client.delete(location, headers={**alice.auth, **s.TUS})
    assert (response.status_code, response.headers["Tus-Resumable"]) == (204, "1.0.0")
    assert s.head(client, alice.auth, location).status_code == 404
    assert s.patch(client, alice.auth, location, 150_000, data[150_000:]).status_code == 404
    assert stored_blobs(app) == {}


def test_an_expired_upload_is_410(client: TestClient, alice: User, app: FastAPI) -> None:
    location = s.create_upload(client, alice.auth, 100)
    with app.state.ctx.sessionmaker.begin() as session:
        session.execute(update(EvidenceUpload).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert s.head(client, alice.auth, location).status_code == 410
    assert s.patch(client, alice.auth, location, 0, b"x" * 100).status_code == 410


def test_head_finishes_an_upload_whose_completion_was_cut_off(
    client: TestClient, alice: User, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.evidence import service

    data = s.jpeg_with_exif()
    location = s.create_upload(client, alice.auth, len(data))
    original = service.record

    def database_gone(*args: object, **kwargs: object) -> Evidence:
        raise ConnectionResetError("the database went away")

    monkeypatch.setattr(service, "record", database_gone)
    assert s.patch(client, alice.auth, location, 0, data).status_code == 500
    monkeypatch.setattr(service, "record", original)
    # Every byte is saved but nothing recorded: HEAD completes it rather than lose the file.
    response = s.head(client, alice.auth, location)
    assert (response.status_code, response.headers["Upload-Offset"]) == (200, str(len(data)))
    evidence_id = location.rsplit("/", 1)[-1]
    record = client.get(f"/v1/evidence/{evidence_id}", headers=alice.auth)
    assert record.json()["sha256"] == s.sha256(data)
    assert [event.kind for event in _events(app)] == ["evidence.added"]


def test_upload_metadata_names_incidents_that_must_be_the_callers(
    client: TestClient, alice: User, bob: User
) -> None:
    from tests.diary.support import incident_body

    mine = client.post("/v1/incidents", json=incident_body(), headers=alice.auth).json()["id"]
    theirs = client.post("/v1/incidents", json=incident_body(), headers=bob.auth).json()["id"]
    assert s.create(client, alice.auth, 10, incident_ids=theirs).status_code == 422
    assert s.create(client, alice.auth, 10, incident_ids="not-a-uuid").status_code == 400
    data = s.jpeg_with_exif()
    evidence_id = s.upload(client, alice.auth, data, incident_ids=mine)
    record = client.get(f"/v1/evidence/{evidence_id}", headers=alice.auth).json()
    assert record["incident_ids"] == [mine]


def test_the_sha256_is_exact_whichever_process_served_each_patch(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    from dataclasses import replace

    from app.evidence import hashing

    data = s.big_jpeg(900_000)
    location = s.create_upload(client, alice.auth, len(data))
    upload_id = uuid.UUID(location.rsplit("/", 1)[-1])
    assert s.patch(client, alice.auth, location, 0, data[:300_000]).status_code == 204
    hashing.forget(upload_id)  # the next request lands on a process that never saw the first
    assert s.patch(client, alice.auth, location, 300_000, data[300_000:600_000]).is_success
    # An entry for a state other than the saved one (a request never saved) is not used.
    row = _upload_row(app, location)
    assert row is not None
    held = uploads.look(app.state.ctx.sessionmaker, row.account_id, upload_id)
    assert held.state is not None and hashing.resume(upload_id, held.state) is None
    unsaved = replace(held.state, pending=held.state.pending[:-1] + b"x")
    hashing.remember(upload_id, unsaved, hashlib.sha256(b"not what was stored"))
    assert hashing.resume(upload_id, held.state) is None
    assert s.patch(client, alice.auth, location, 600_000, data[600_000:]).status_code == 204
    record = client.get(f"/v1/evidence/{upload_id}", headers=alice.auth).json()
    assert record["sha256"] == s.sha256(data)


def test_a_failing_store_is_503_keeps_nothing_and_the_upload_resumes(
    client: TestClient, alice: User, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.blobs import BlobStoreError

    data = s.big_jpeg(300_000)
    location = s.create_upload(client, alice.auth, len(data))
    assert s.patch(client, alice.auth, location, 0, data[:100_000]).status_code == 204

    def disk_full(*args: object, **kwargs: object) -> None:
        raise BlobStoreError("local blob store could not write: File too large")

    with monkeypatch.context() as patched:
        patched.setattr(app.state.ctx.blobs, "append", disk_full)
        response = s.patch(client, alice.auth, location, 100_000, data[100_000:])
        assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
        assert s.multipart(client, alice.auth, s.jpeg_with_exif()).status_code == 503
    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == "100000"
    assert client.get("/v1/evidence", headers=alice.auth).json()["items"] == []
    assert _events(app) == []
    assert s.patch(client, alice.auth, location, 100_000, data[100_000:]).status_code == 204
    evidence_id = location.rsplit("/", 1)[-1]
    record = client.get(f"/v1/evidence/{evidence_id}", headers=alice.auth).json()
    assert record["sha256"] == s.sha256(data)


def _sha1(data: bytes) -> str:
    # tus's transfer check, not a security measure (the chain records SHA-256).
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


def test_sha1_checksums_are_accepted_as_tus_requires(client: TestClient, alice: User) -> None:
    data = s.jpeg_with_exif()
    location = s.create_upload(client, alice.auth, len(data))
    headers = {**alice.auth, **s.TUS, **s.OFFSET_STREAM, "Upload-Offset": "0"}
    wrong = client.patch(
        location, headers={**headers, "Upload-Checksum": "sha1 " + _sha1(b"other")},
        content=data[:100],
    )  # fmt: skip
    assert wrong.status_code == 460
    assert s.head(client, alice.auth, location).headers["Upload-Offset"] == "0"
    right = client.patch(
        location, headers={**headers, "Upload-Checksum": "sha1 " + _sha1(data[:100])},
        content=data[:100],
    )  # fmt: skip
    assert right.status_code == 204, right.text
    assert right.headers["Upload-Offset"] == "100"
    odd = client.patch(
        location, headers={**headers, "Upload-Offset": "100", "Upload-Checksum": "md5 AAAA"},
        content=data[100:],
    )  # fmt: skip
    assert odd.status_code == 400 and "sha1,sha256" in odd.json()["detail"]


def test_x_http_method_override_reaches_patch_head_and_delete(
    client: TestClient, alice: User
) -> None:
    """For clients behind proxies that drop PATCH (tus: a server MUST honour the override)."""
    data = s.jpeg_with_exif()
    location = s.create_upload(client, alice.auth, len(data))
    tus = {**alice.auth, **s.TUS}
    sent = client.post(
        location,
        headers={**tus, **s.OFFSET_STREAM, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"},
        content=data[:200],
    )
    assert sent.status_code == 204, sent.text
    looked = client.post(location, headers={**tus, "X-HTTP-Method-Override": "HEAD"})
    assert looked.status_code == 200 and looked.headers["Upload-Offset"] == "200"
    gone = client.post(location, headers={**tus, "X-HTTP-Method-Override": "DELETE"})
    assert gone.status_code == 204
    assert s.head(client, alice.auth, location).status_code == 404
    # Without the header, POST on an upload is still not a method it has.
    assert client.post(location, headers=tus).status_code == 405


def test_unsupported_extensions_are_refused_by_name(client: TestClient, alice: User) -> None:
    tus = {**alice.auth, **s.TUS}
    for headers, named in (
        ({"Upload-Concat": "partial"}, "concatenation"),
        ({"Upload-Concat": "final;/v1/uploads/a /v1/uploads/b"}, "concatenation"),
        ({"Upload-Defer-Length": "1"}, "creation-defer-length"),
    ):
        response = client.post("/v1/uploads", headers={**tus, "Upload-Length": "10", **headers})
        assert response.status_code == 400, headers
        assert response.json()["type"].endswith("/tus-extension-unsupported")
        assert named in response.json()["detail"]
    with_body = client.post(
        "/v1/uploads",
        headers={**tus, "Upload-Length": "10", **s.OFFSET_STREAM},
        content=b"0123456789",
    )
    assert with_body.status_code == 400 and "creation-with-upload" in with_body.json()["detail"]
    assert client.get("/v1/uploads", headers=alice.auth).json()["items"] == []


def test_head_returns_the_metadata_the_client_gave(client: TestClient, alice: User) -> None:
    location = s.create_upload(client, alice.auth, 10, filename="gate.jpg", caption="At the gate")
    response = s.head(client, alice.auth, location)
    pairs = dict(item.split(" ") for item in response.headers["Upload-Metadata"].split(","))
    decoded = {key: base64.b64decode(value).decode() for key, value in pairs.items()}
    assert decoded == {"filename": "gate.jpg", "caption": "At the gate"}
    bare = s.create_upload(client, alice.auth, 10)
    assert "Upload-Metadata" not in s.head(client, alice.auth, bare).headers


def test_office_documents_chat_exports_and_emails_are_accepted(
    client: TestClient, alice: User
) -> None:
    import io
    import zipfile

    def zipped(names: list[str]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in names:
                archive.writestr(name, "x" * 100)
        return buffer.getvalue()

    email = (
        b"Return-Path: <m@example.com>\r\nFrom: Mark <m@example.com>\r\nTo: me@example.com\r\n"
        b"Subject: you will regret it\r\nDate: Tue, 1 Sep 2026 21:10:00 +0100\r\n\r\nbody\r\n"
    )
    cases = {
        "chat.zip": (zipped(["WhatsApp Chat with Mark.txt"]), "application/zip"),
        "letter.docx": (
            zipped(["[Content_Types].xml", "_rels/.rels", "word/document.xml"]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        "threat.eml": (email, "message/rfc822"),
        "notes.txt": (b"Date: Tuesday. He was outside again.\n", "text/plain"),
    }
    for name, (data, media_type) in cases.items():
        evidence_id = s.upload(client, alice.auth, data, filename=name)
        record = client.get(f"/v1/evidence/{evidence_id}", headers=alice.auth).json()
        assert record["media_type"] == media_type, name
