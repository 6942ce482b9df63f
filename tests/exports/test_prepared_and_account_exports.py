"""A caseworker with `assist` consent prepares an export that the client downloads; and
GET /v1/me/export, the victim's copy of everything their account holds."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from fastapi.testclient import TestClient

from app.errors import DEFAULT_PROBLEM_TYPE_BASE
from tests.conftest import User
from tests.diary.support import subject_body
from tests.evidence.support import jpeg_with_exif, multipart
from tests.exports.jobs_support import MARKER, diary_with_marker, download, wait
from tests.sharing.support import World, grant, link_code, world

__all__ = ["world"]
PROBLEM = DEFAULT_PROBLEM_TYPE_BASE  # PUBLIC_BASE_URL (the default) + /problems/


def _problem(response: Any, status: int, type_: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == PROBLEM + type_


def test_a_caseworker_prepares_an_export_the_client_downloads(
    client: TestClient, world: World, alice: User
) -> None:
    diary_with_marker(client, alice)
    client_id = grant(client, alice, link_code(client, world.caseworker), "assist")["id"]
    path = f"/v1/clients/{client_id}/exports"
    response = client.post(path, headers=world.caseworker.auth, json={"format": "pdf"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == f"{path}/{job['id']}"
    assert job["prepared_by"] == {
        "kind": "caseworker",
        "id": client_id,
        "name": "Sam Okafor, Safe Haven",
    }

    # The client sees it among their exports, marked as prepared, and downloads it.
    done = wait(client, alice, job["id"])
    assert done["status"] == "done" and done["prepared_by"]["kind"] == "caseworker"
    assert download(client, alice, done).startswith(b"%PDF")
    # The caseworker can follow its state, but not download it or see it as their own.
    state = client.get(f"{path}/{job['id']}", headers=world.caseworker.auth)
    assert state.status_code == 200 and state.json()["status"] == "done"
    for url in (f"/v1/exports/{job['id']}", f"/v1/exports/{job['id']}/download"):
        _problem(client.get(url, headers=world.caseworker.auth), 404, "not-found")

    events = client.get("/v1/audit", headers=alice.auth).json()["items"]
    created = [e for e in events if e["action"] == "export.created"]
    assert [(e["actor"]["kind"], e["actor"]["id"], e["actor"]["name"]) for e in created] == [
        ("caseworker", client_id, "Sam Okafor, Safe Haven")
    ]


def test_a_caseworker_without_assist_scope_cannot_prepare_one(
    client: TestClient, world: World, alice: User
) -> None:
    client_id = grant(client, alice, link_code(client, world.caseworker), "diary")["id"]
    path = f"/v1/clients/{client_id}/exports"
    _problem(
        client.post(path, headers=world.caseworker.auth, json={"format": "pdf"}),
        403,
        "scope-insufficient",
    )
    _problem(
        client.post(path, headers=world.caseworker_b.auth, json={"format": "pdf"}),
        404,
        "not-found",
    )
    assert client.get("/v1/exports", headers=alice.auth).json()["items"] == []


def test_a_caseworker_sees_only_the_exports_they_prepared(
    client: TestClient, world: World, alice: User
) -> None:
    client_id = grant(client, alice, link_code(client, world.caseworker), "assist")["id"]
    own = client.post("/v1/exports", headers=alice.auth, json={"format": "json"}).json()
    _problem(
        client.get(f"/v1/clients/{client_id}/exports/{own['id']}", headers=world.caseworker.auth),
        404,
        "not-found",
    )
    # Nor can they take the client's own id for a "repeat" of it.
    again = client.post(
        f"/v1/clients/{client_id}/exports",
        headers=world.caseworker.auth,
        json={"id": own["id"], "format": "json"},
    )
    _problem(again, 409, "conflict")


def _zip(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_account_export_holds_everything_decrypted(client: TestClient, alice: User) -> None:
    subject = client.post("/v1/subjects", headers=alice.auth, json=subject_body(MARKER)).json()
    incident_id = diary_with_marker(client, alice)
    amended = client.patch(
        f"/v1/incidents/{incident_id}",
        headers={**alice.auth, "If-Match": "*"},
        json={"witnesses": "A neighbour"},
    )
    assert amended.status_code == 200, amended.text
    photo = jpeg_with_exif()
    upload = multipart(client, alice.auth, photo, fields={"incident_ids": incident_id})
    assert upload.status_code == 201, upload.text
    evidence_id = upload.json()["id"]
    assert (
        client.post("/v1/risk-assessments", headers=alice.auth, json={"answers": {}}).status_code
        == 201
    )

    archive = _zip(client.get("/v1/me/export", headers=alice.auth))
    names = set(archive.namelist())
    assert f"evidence/{evidence_id}-photo.jpg" in names
    assert archive.read(f"evidence/{evidence_id}-photo.jpg") == photo
    account = json.loads(archive.read("account.json"))
    assert account["username"] == alice.username
    [incident] = json.loads(archive.read("incidents.json"))
    assert [r["revision"] for r in incident["revisions"]] == [1, 2]
    assert MARKER in incident["revisions"][0]["content"]["description"]
    [stored_subject] = json.loads(archive.read("subjects.json"))
    assert stored_subject["id"] == subject["id"]
    assert len(json.loads(archive.read("risk-assessments.json"))) == 1
    assert [e["id"] for e in json.loads(archive.read("evidence.json"))] == [evidence_id]
    chain = json.loads(archive.read("chain.json"))
    assert len(chain["events"]) == 4 and len(chain["revisions"]) == 3
    audit = json.loads(archive.read("audit.json"))
    assert "account.exported" in {event["action"] for event in audit}
    assert "security.login" in {event["action"] for event in audit}
    sums = archive.read("SHA256SUMS").decode().splitlines()
    assert len(sums) == len(names) - 1
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest


def test_the_account_export_is_the_callers_own_and_audited(
    client: TestClient, alice: User, bob: User
) -> None:
    diary_with_marker(client, alice)
    archive = _zip(client.get("/v1/me/export", headers=bob.auth))
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert MARKER.encode() not in everything
    assert json.loads(archive.read("incidents.json")) == []
    events = client.get("/v1/audit", headers=bob.auth).json()["items"]
    assert [e["action"] for e in events if e["source"] == "audit"] == ["account.exported"]


def test_staff_cannot_use_the_account_export(client: TestClient, world: World) -> None:
    _problem(client.get("/v1/me/export", headers=world.caseworker.auth), 403, "forbidden")


def test_a_client_that_asks_for_a_zip_gets_one(client: TestClient, bob: User) -> None:
    response = client.get("/v1/me/export", headers={**bob.auth, "Accept": "application/zip"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert _zip(response).namelist()
