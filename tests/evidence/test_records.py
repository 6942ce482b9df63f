"""Evidence records: the one-request upload, listing, relinking, deleting, and the chain."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.models import ChainEvent, Evidence
from app.settings import Settings
from tests.conftest import User
from tests.diary.support import incident_body
from tests.evidence import support as s
from tests.evidence.conftest import stored_blobs, uploads_in_progress


def _incident(client: TestClient, user: User, **overrides: object) -> str:
    response = client.post("/v1/incidents", json=incident_body(**overrides), headers=user.auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _kinds(app: FastAPI) -> list[tuple[str, int]]:
    with app.state.ctx.sessionmaker() as session:
        events = session.scalars(select(ChainEvent).order_by(ChainEvent.seq))
        return [(event.kind, event.revision) for event in events]


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_multipart_upload_records_a_small_file(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    incident = _incident(client, alice)
    data = s.jpeg_with_exif()
    response = s.multipart(
        client,
        alice.auth,
        data,
        name="ügly näme.jpg",
        fields={"caption": "his car", "incident_ids": [incident]},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["ETag"] == body["etag"]
    assert response.headers["Location"] == f"/v1/evidence/{body['id']}"
    assert body == {
        "id": body["id"],
        "media_type": "image/jpeg",
        "size": len(data),
        "sha256": s.sha256(data),
        "file_name": "ügly näme.jpg",
        "caption": "his car",
        "incident_ids": [incident],
        "capture": {
            "captured_at": "2026-03-14T20:05:09Z",
            "device": "Phonemaker Model 7",
            "latitude": 51.5,
            "longitude": -0.125,
            "width": 64,
            "height": 48,
        },
        "received_at": body["received_at"],
        "etag": body["etag"],
    }
    assert client.get(f"/v1/evidence/{body['id']}/content", headers=alice.auth).content == data
    assert _kinds(app) == [("incident.created", 1), ("evidence.added", 1)]
    assert uploads_in_progress(app) == []


def test_a_client_id_makes_the_multipart_upload_repeatable(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    chosen = str(uuid.uuid4())
    data = s.jpeg_with_exif()
    first = s.multipart(client, alice.auth, data, fields={"id": chosen})
    assert (first.status_code, first.json()["id"]) == (201, chosen)
    again = s.multipart(client, alice.auth, data, fields={"id": chosen})
    assert (again.status_code, again.json()) == (200, first.json())
    other = s.multipart(client, alice.auth, data + b"\x00", fields={"id": chosen})
    assert other.status_code == 409
    assert len(stored_blobs(app)) == 1
    assert _kinds(app) == [("evidence.added", 1)]


def test_the_multipart_form_is_checked(client: TestClient, alice: User, app: FastAPI) -> None:
    data = s.jpeg_with_exif()
    cases = [
        {"files": {"file": ("a.jpg", data)}, "data": {"owner_id": "x"}},
        {"files": {"other": ("a.jpg", data)}},
        {"files": {"file": ("a.jpg", data)}, "data": {"incident_ids": str(uuid.uuid4())}},
        {"files": {"file": ("a.jpg", data)}, "data": {"caption": "x" * 5001}},
        {"files": {"caption": (None, b"no file")}},
    ]
    for case in cases:
        response = client.post("/v1/evidence", headers=alice.auth, **case)  # type: ignore[arg-type]
        assert response.status_code == 422, (case, response.text)
    # `id` after the file: the file was already encrypted bound to another id.
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
        + data
        + b'\r\n--B\r\nContent-Disposition: form-data; name="id"\r\n\r\n'
        + str(uuid.uuid4()).encode()
        + b"\r\n--B--\r\n"
    )
    headers = {**alice.auth, "Content-Type": "multipart/form-data; boundary=B"}
    assert client.post("/v1/evidence", headers=headers, content=body).status_code == 422
    cut = body[: len(body) // 2]
    assert client.post("/v1/evidence", headers=headers, content=cut).status_code == 400
    json_body = client.post("/v1/evidence", headers=alice.auth, json={"file": "x"})
    assert json_body.status_code == 415
    assert stored_blobs(app) == {}
    assert _kinds(app) == []


def test_multipart_refuses_disallowed_types_and_oversize_files(
    database_url: str, alice: User, app: FastAPI
) -> None:
    from app.main import create_app

    small = Settings(
        environment="test",
        data_dir=app.state.ctx.settings.data_dir,
        database_url=database_url,
        max_multipart_bytes=64 * 1024,
    )
    limited = create_app(small)
    with TestClient(limited, raise_server_exceptions=False) as client:
        script = b"#!/bin/sh\n\x00\x01rm -rf /\n" * 100
        assert s.multipart(client, alice.auth, script, name="a.jpg").status_code == 415
        big = s.big_jpeg(64 * 1024 + 1)
        assert s.multipart(client, alice.auth, big).status_code == 413
        huge = s.big_jpeg(3 * 1024 * 1024)
        assert s.multipart(client, alice.auth, huge).status_code == 413
        assert s.multipart(client, alice.auth, b"").status_code == 415
        assert client.get("/v1/evidence", headers=alice.auth).json()["items"] == []
    limited.state.ctx.engine.dispose()
    assert stored_blobs(app) == {}


def test_list_pages_in_order_and_filters_by_incident_from_either_side(
    client: TestClient, alice: User, bob: User
) -> None:
    incident = _incident(client, alice)
    ids = [
        s.multipart(client, alice.auth, s.jpeg_with_exif() + bytes([n])).json()["id"]
        for n in range(5)
    ]
    linked_here = s.multipart(
        client, alice.auth, s.jpeg_with_exif(), fields={"incident_ids": incident}
    ).json()["id"]
    ids.append(linked_here)
    # The incident names one file itself; evidence names the incident for another.
    current = client.get(f"/v1/incidents/{incident}", headers=alice.auth)
    amended = client.patch(
        f"/v1/incidents/{incident}",
        json={"evidence_ids": [ids[1]]},
        headers={**alice.auth, "If-Match": current.headers["ETag"]},
    )
    assert amended.status_code == 200, amended.text
    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/evidence", params=params, headers=alice.auth).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    filtered = client.get("/v1/evidence", params={"incident_id": incident}, headers=alice.auth)
    assert sorted(item["id"] for item in filtered.json()["items"]) == sorted([ids[1], linked_here])
    assert client.get("/v1/evidence", headers=bob.auth).json()["items"] == []
    theirs = client.get("/v1/evidence", params={"incident_id": incident}, headers=bob.auth)
    assert theirs.json()["items"] == []


def test_update_needs_if_match_and_changes_caption_and_links(
    client: TestClient, alice: User, bob: User
) -> None:
    incident = _incident(client, alice)
    created = s.multipart(client, alice.auth, s.jpeg_with_exif(), fields={"caption": "a"}).json()
    path = f"/v1/evidence/{created['id']}"
    change = {"caption": "his car, reg AB12", "incident_ids": [incident]}
    assert client.patch(path, json=change, headers=alice.auth).status_code == 428
    stale = client.patch(path, json=change, headers={**alice.auth, "If-Match": '"0-x"'})
    assert stale.status_code == 412
    assert stale.json()["current"]["caption"] == "a"
    response = client.patch(path, json=change, headers={**alice.auth, "If-Match": created["etag"]})
    assert response.status_code == 200, response.text
    assert response.json()["caption"] == change["caption"]
    assert response.json()["incident_ids"] == [incident]
    assert response.headers["ETag"] != created["etag"]
    unknown = {"incident_ids": [str(uuid.uuid4())]}
    etag = response.headers["ETag"]
    assert (
        client.patch(path, json=unknown, headers={**alice.auth, "If-Match": etag}).status_code
        == 422
    )
    extra = {"sha256": "0" * 64}
    assert (
        client.patch(path, json=extra, headers={**alice.auth, "If-Match": etag}).status_code == 422
    )
    assert (
        client.patch(path, json=change, headers={**bob.auth, "If-Match": etag}).status_code == 404
    )


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_delete_removes_the_blob_and_records_the_deletion(
    client: TestClient, alice: User, bob: User, app: FastAPI
) -> None:
    created = s.multipart(client, alice.auth, s.jpeg_with_exif()).json()
    path = f"/v1/evidence/{created['id']}"
    assert stored_blobs(app) != {}
    assert client.delete(path, headers=alice.auth).status_code == 428
    assert client.delete(path, headers={**bob.auth, "If-Match": created["etag"]}).status_code == 404
    response = client.delete(path, headers={**alice.auth, "If-Match": created["etag"]})
    assert response.status_code == 204
    assert stored_blobs(app) == {}
    assert _kinds(app) == [("evidence.added", 1), ("evidence.deleted", 2)]
    with app.state.ctx.sessionmaker() as session:
        row = session.scalars(
            select(Evidence).where(Evidence.id == uuid.UUID(created["id"]))
        ).one_or_none()
        assert row is not None
        assert (row.file_key_enc, row.details_enc, row.blob_key) == (None, None, None)
    assert client.get(path, headers=alice.auth).status_code == 410
    assert client.get(path + "/content", headers=alice.auth).status_code == 410
    assert client.delete(path, headers={**alice.auth, "If-Match": "*"}).status_code == 204
    assert client.get("/v1/evidence", headers=alice.auth).json()["items"] == []
    report = client.get("/v1/diary/integrity", headers=alice.auth).json()
    assert report == {**report, "ok": True, "length": 2}


def test_another_accounts_evidence_is_404_everywhere(
    client: TestClient, alice: User, bob: User
) -> None:
    created = s.multipart(client, alice.auth, s.jpeg_with_exif()).json()
    path = f"/v1/evidence/{created['id']}"
    assert client.get(path, headers=bob.auth).status_code == 404
    assert client.get(path + "/content", headers=bob.auth).status_code == 404
    assert client.patch(path, json={}, headers={**bob.auth, "If-Match": "*"}).status_code == 404
    assert client.delete(path, headers={**bob.auth, "If-Match": "*"}).status_code == 404
    for method in ("GET", "DELETE"):
        assert client.request(method, path).status_code == 401
    assert client.get(path, headers=alice.auth).status_code == 200


def test_incidents_may_name_only_the_callers_live_evidence(
    client: TestClient, alice: User, bob: User
) -> None:
    mine = s.multipart(client, alice.auth, s.jpeg_with_exif()).json()
    theirs = s.multipart(client, bob.auth, s.jpeg_with_exif()).json()
    for ids in ([str(uuid.uuid4())], [theirs["id"]], [mine["id"], theirs["id"]]):
        response = client.post(
            "/v1/incidents", json=incident_body(evidence_ids=ids), headers=alice.auth
        )
        assert response.status_code == 422, ids
        assert theirs["id"] not in response.text or response.json()["errors"]
    incident = client.post(
        "/v1/incidents", json=incident_body(evidence_ids=[mine["id"]]), headers=alice.auth
    )
    assert incident.status_code == 201
    # Deleting the file keeps the incident's link; amending something else still works. (The
    # file's ETag changed when the incident listed it: the delete sends the current one.)
    etag = client.get(f"/v1/evidence/{mine['id']}", headers=alice.auth).headers["ETag"]
    assert etag != mine["etag"]
    deleted = client.delete(f"/v1/evidence/{mine['id']}", headers={**alice.auth, "If-Match": etag})
    assert deleted.status_code == 204
    amended = client.patch(
        f"/v1/incidents/{incident.json()['id']}",
        json={"description": "He came back at night."},
        headers={**alice.auth, "If-Match": incident.headers["ETag"]},
    )
    assert amended.status_code == 200, amended.text
    relink = client.patch(
        f"/v1/incidents/{incident.json()['id']}",
        json={"evidence_ids": [mine["id"], theirs["id"]]},
        headers={**alice.auth, "If-Match": amended.headers["ETag"]},
    )
    assert relink.status_code == 422
    assert [e["loc"] for e in relink.json()["errors"]] == [
        ["body", "evidence_ids", sorted([mine["id"], theirs["id"]]).index(theirs["id"])]
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("sha256", "f" * 64),
        ("chain_seq", 99),
        ("deleted_at", None),
    ],
)
def test_the_integrity_check_covers_evidence_events(
    client: TestClient, alice: User, app: FastAPI, column: str, value: object
) -> None:
    _incident(client, alice)
    created = s.multipart(client, alice.auth, s.jpeg_with_exif()).json()
    deleted = s.multipart(client, alice.auth, s.jpeg_with_exif() + b"2").json()
    client.delete(
        f"/v1/evidence/{deleted['id']}", headers={**alice.auth, "If-Match": deleted["etag"]}
    )
    _incident(client, alice)
    assert client.get("/v1/diary/integrity", headers=alice.auth).json()["ok"] is True
    target = deleted["id"] if column == "deleted_at" else created["id"]
    with app.state.ctx.sessionmaker.begin() as session:
        session.execute(
            update(Evidence).where(Evidence.id == uuid.UUID(target)).values({column: value})
        )
    report = client.get("/v1/diary/integrity", headers=alice.auth).json()
    assert report["ok"] is False
    assert report["broken_at"] == (4 if column == "deleted_at" else 2), report


def test_the_event_is_in_the_sync_feed_with_the_files_hash(client: TestClient, alice: User) -> None:
    created = s.multipart(client, alice.auth, s.jpeg_with_exif()).json()
    feed = client.get("/v1/sync", headers=alice.auth).json()
    assert [(c["kind"], c["object_id"]) for c in feed["items"]] == [
        ("evidence.added", created["id"])
    ]
