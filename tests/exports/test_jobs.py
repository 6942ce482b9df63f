"""Export jobs through the API: each format is made in the background, stored encrypted, and
downloaded as the officer would receive it; ids of another account are 404; state lives in the
database, so a job outlives the process that queued it."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.errors import DEFAULT_PROBLEM_TYPE_BASE
from app.exports.bundle.verify import verify_bundle
from tests.conftest import ROOT, User, stored_bytes
from tests.evidence.conftest import stored_blobs
from tests.evidence.support import jpeg_with_exif, multipart
from tests.exports.jobs_support import (
    MARKER,
    create,
    created,
    diary_with_marker,
    download,
    made,
    wait,
)

PROBLEM = DEFAULT_PROBLEM_TYPE_BASE  # PUBLIC_BASE_URL (the default) + /problems/
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)


def _text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "export.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", " ", result.stdout.decode("utf-8"))


def _problem(response: Any, status: int, type_: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == PROBLEM + type_


@needs_poppler
def test_a_pdf_export_is_made_in_the_background_and_lists_the_incidents(
    client: TestClient, alice: User, tmp_path: Path
) -> None:
    incident_id = diary_with_marker(client, alice)
    job, pdf = made(client, alice, format="pdf", identification="46/12345/26")
    assert job["format"] == "pdf"
    assert job["prepared_by"] == {"kind": "victim", "id": job["prepared_by"]["id"], "name": None}
    assert job["finished_at"] and job["expires_at"] and job["error"] is None
    assert pdf.startswith(b"%PDF")
    text = _text_of(pdf, tmp_path)
    assert MARKER in text
    assert incident_id[:8] in text  # rows print the short id; chronology.json the full one
    assert "46/12345/26" in text


def test_a_json_export_equals_the_chronology(client: TestClient, alice: User) -> None:
    diary_with_marker(client, alice)
    _, data = made(client, alice, format="json")
    exported = json.loads(data)
    chronology = client.get("/v1/chronology", headers=alice.auth).json()
    for document in (exported, chronology):
        document.pop("generated_at")
    assert exported == chronology
    assert MARKER in data.decode()


def test_a_json_export_follows_the_filters(client: TestClient, alice: User) -> None:
    diary_with_marker(client, alice)
    _, data = made(client, alice, format="json", **{"from": "2025-01-01T00:00:00Z"})
    filtered = client.get(
        "/v1/chronology", headers=alice.auth, params={"from": "2025-01-01T00:00:00Z"}
    ).json()
    exported = json.loads(data)
    assert exported["timeline"] == filtered["timeline"] == []


def _evidence(client: TestClient, user: User, incident_id: str) -> tuple[str, bytes]:
    photo = jpeg_with_exif()
    fields = {"caption": "the gate", "incident_ids": incident_id}
    response = multipart(client, user.auth, photo, name="gate photo.jpg", fields=fields)
    assert response.status_code == 201, response.text
    return str(response.json()["id"]), photo


def test_a_bundle_verifies_offline_and_carries_the_evidence_files(
    client: TestClient, alice: User, tmp_path: Path
) -> None:
    incident_id = diary_with_marker(client, alice)
    evidence_id, photo = _evidence(client, alice, incident_id)
    _, data = made(client, alice, format="bundle")
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    published = client.get("/v1/keys").json()["manifest_keys"]
    key_file = tmp_path / "keys.json"
    key_file.write_text(json.dumps({"manifest_keys": published}))
    keys = [k["public_key_pem"] for k in published]
    assert keys
    report = verify_bundle(path, _public_keys(keys))
    assert report.ok, report.problems
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        [exhibit] = manifest["exhibits"]
        assert exhibit["evidence_id"] == evidence_id
        assert archive.read(exhibit["path"]) == photo
        assert exhibit["path"] == "evidence/EX-001-gate_photo.jpg"
        chain = json.loads(archive.read("chain.json"))
        assert chain["revisions"], "a whole-diary bundle carries every revision"
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "verify", str(path), "--key", str(key_file)],
        cwd=ROOT,
        capture_output=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _public_keys(pems: list[str]) -> list[Ed25519PublicKey]:
    keys = [load_pem_public_key(pem.encode()) for pem in pems]
    assert all(isinstance(key, Ed25519PublicKey) for key in keys)
    return cast(list[Ed25519PublicKey], keys)


def test_a_bundle_of_part_of_the_diary_leaves_out_the_revisions(
    client: TestClient, alice: User, tmp_path: Path
) -> None:
    diary_with_marker(client, alice)
    _, data = made(
        client, alice, format="bundle", include_evidence=False, behaviour=["threat_to_kill"]
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        chain = json.loads(archive.read("chain.json"))
        assert "revisions" not in chain and len(chain["events"]) == 1
        assert not [name for name in archive.namelist() if name.startswith("evidence/")]
        assert MARKER.encode() not in archive.read("chronology.json")


@pytest.mark.parametrize("format_", ["pdf", "bundle", "json"])
def test_an_empty_diary_still_exports(client: TestClient, alice: User, format_: str) -> None:
    job, data = made(client, alice, format=format_)
    assert job["size"] == len(data) > 0


def test_the_stored_result_is_encrypted(client: TestClient, app: FastAPI, alice: User) -> None:
    diary_with_marker(client, alice)
    job, data = made(client, alice, format="json")
    assert MARKER.encode() in data
    blobs = stored_blobs(app)
    [result] = [blob for name, blob in blobs.items() if name.startswith("exports/")]
    assert len(result) > job["size"]
    assert MARKER.encode() not in result
    assert MARKER.encode() not in b"".join(blobs.values())
    assert MARKER.encode() not in stored_bytes(app)


def test_an_unknown_format_is_422(client: TestClient, alice: User) -> None:
    response = create(client, alice, format="docx")
    _problem(response, 422, "validation-error")
    assert response.json()["errors"][0]["loc"] == ["body", "format"]


@pytest.mark.parametrize(
    "body",
    [
        {"owner_id": "00000000-0000-0000-0000-000000000000"},
        {"status": "done"},
        {"from": "2025-02-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
        {"from": "2025-02-01T00:00:00"},
        {"behaviour": ["not-a-code"]},
        {"include_evidence": "yes"},
    ],
)
def test_bad_bodies_are_422(client: TestClient, alice: User, body: dict[str, Any]) -> None:
    _problem(create(client, alice, **body), 422, "validation-error")
    assert client.get("/v1/exports", headers=alice.auth).json()["items"] == []


def test_a_repeated_create_returns_the_original(client: TestClient, alice: User) -> None:
    export_id = "3f0c4d1e-8a9b-4c2d-9e1f-0a1b2c3d4e5f"
    first = created(client, alice, id=export_id, format="json")
    again = create(client, alice, id=export_id, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] == export_id
    _problem(create(client, alice, id=export_id, format="pdf"), 409, "conflict")
    assert len(client.get("/v1/exports", headers=alice.auth).json()["items"]) == 1
    assert wait(client, alice, export_id)["status"] == "done"


def test_another_accounts_export_is_not_found(client: TestClient, alice: User, bob: User) -> None:
    diary_with_marker(client, alice)
    job, _ = made(client, alice, format="json")
    for method, path in (
        ("GET", f"/v1/exports/{job['id']}"),
        ("GET", f"/v1/exports/{job['id']}/download"),
        ("DELETE", f"/v1/exports/{job['id']}"),
    ):
        response = client.request(method, path, headers=bob.auth)
        _problem(response, 404, "not-found")
        assert MARKER not in response.text
    assert client.get("/v1/exports", headers=bob.auth).json()["items"] == []
    download(client, alice, wait(client, alice, job["id"]))


def test_without_a_token_every_route_is_401(client: TestClient) -> None:
    some = "3f0c4d1e-8a9b-4c2d-9e1f-0a1b2c3d4e5f"
    for method, path in (
        ("POST", "/v1/exports"),
        ("GET", "/v1/exports"),
        ("GET", f"/v1/exports/{some}"),
        ("GET", f"/v1/exports/{some}/download"),
        ("DELETE", f"/v1/exports/{some}"),
        ("GET", "/v1/me/export"),
    ):
        _problem(client.request(method, path), 401, "unauthorized")


def test_delete_removes_the_job_and_its_result(
    client: TestClient, app: FastAPI, alice: User
) -> None:
    job, _ = made(client, alice, format="json")
    assert any(name.startswith("exports/") for name in stored_blobs(app))
    assert client.delete(f"/v1/exports/{job['id']}", headers=alice.auth).status_code == 204
    _problem(client.get(f"/v1/exports/{job['id']}", headers=alice.auth), 404, "not-found")
    assert not any(name.startswith("exports/") for name in stored_blobs(app))


def test_the_list_is_newest_first_and_paginated(client: TestClient, alice: User) -> None:
    ids = [created(client, alice, format="json")["id"] for _ in range(3)]
    for export_id in ids:
        wait(client, alice, export_id)
    first = client.get("/v1/exports", headers=alice.auth, params={"limit": 2}).json()
    second = client.get(
        "/v1/exports", headers=alice.auth, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [job["id"] for job in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None


def test_creating_and_downloading_are_in_the_audit_trail(client: TestClient, alice: User) -> None:
    job, _ = made(client, alice, format="json")
    events = client.get("/v1/audit", headers=alice.auth).json()["items"]
    mine = [(e["action"], e["object"]) for e in events if e["action"].startswith("export.")]
    assert mine == [
        ("export.downloaded", {"type": "export", "id": job["id"]}),
        ("export.created", {"type": "export", "id": job["id"]}),
    ]
