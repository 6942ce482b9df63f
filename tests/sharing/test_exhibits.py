"""Exhibits through a share link: listed with their hashes, served bit for bit, in the PDF and
the bundle; never outside the share's scope, never once deleted, never altered."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.crypto.stream import CIPHER_SEGMENT_SIZE, HEADER_SIZE, SEGMENT_SIZE
from app.exports.bundle.verify import load_public_keys, verify_bundle
from app.models import Evidence
from tests.conftest import User
from tests.evidence import support as s
from tests.evidence.conftest import flip_byte
from tests.sharing.shares_support import add_incident, create_share, small_diary, token_of

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = {"include_evidence": True}


def _upload(client: TestClient, victim: User, incident_ids: list[str], caption: str = "") -> str:
    return s.new_evidence(client, victim.auth, caption, incident_ids)


def _blob_key(app: FastAPI, evidence_id: str) -> str:
    with app.state.ctx.sessionmaker() as session:
        row = session.scalars(
            select(Evidence).where(Evidence.id == uuid.UUID(evidence_id))
        ).one_or_none()
        assert row is not None and row.blob_key is not None
        return row.blob_key


def _shared(client: TestClient, victim: User, **scope: Any) -> str:
    return token_of(create_share(client, victim, scope={**EVIDENCE, **scope}))


def _bundle(client: TestClient, token: str) -> zipfile.ZipFile:
    response = client.get(f"/s/{token}/bundle.zip")
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_a_shared_exhibit_is_listed_with_its_hash_and_served_bit_for_bit(
    client: TestClient, alice: User
) -> None:
    diary = small_diary(client, alice, "Exhibited")
    evidence_id = _upload(client, alice, [diary["incidents"][1]["id"]], "The texts he sent")
    data = s.jpeg_with_exif()
    token = _shared(client, alice)
    page = client.get(f"/s/{token}").text
    assert f'href="/s/{token}/exhibits/EX-001"' in page
    assert s.sha256(data) in page and "The texts he sent" in page
    assert "EX-002" not in page
    response = client.get(f"/s/{token}/exhibits/EX-001")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-disposition"] == 'attachment; filename="EX-001-photo.jpg"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    accessed = client.get("/v1/audit?action=share.accessed", headers=alice.auth).json()["items"]
    assert accessed[0]["details"] == {"what": "exhibit EX-001"}
    mine = client.get(f"/v1/evidence/{evidence_id}", headers=alice.auth).json()
    assert mine["sha256"] == s.sha256(data)


def test_the_bundle_carries_the_exhibit_and_verifies_offline(
    client: TestClient, alice: User, tmp_path: Path
) -> None:
    diary = small_diary(client, alice, "Bundled")
    evidence_id = _upload(client, alice, [diary["incidents"][0]["id"]], "At the gate")
    data = s.jpeg_with_exif()
    token = _shared(client, alice)
    bundle = _bundle(client, token)
    assert bundle.read("evidence/EX-001-photo.jpg") == data
    manifest = json.loads(bundle.read("manifest.json"))
    assert [(e["number"], e["evidence_id"], e["sha256"]) for e in manifest["exhibits"]] == [
        ("EX-001", evidence_id, s.sha256(data))
    ]
    path = tmp_path / "bundle.zip"
    path.write_bytes(client.get(f"/s/{token}/bundle.zip").content)
    keys = client.get("/v1/keys").content
    report = verify_bundle(path, load_public_keys(keys))
    assert report.ok, report.problems
    key_file = tmp_path / "keys.json"
    key_file.write_bytes(keys)
    cli = subprocess.run(
        [sys.executable, "-m", "app.cli", "verify", str(path), "--key", str(key_file)],
        cwd=ROOT,
        capture_output=True,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    folder = tmp_path / "unpacked"
    zipfile.ZipFile(path).extractall(folder)
    sums = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=folder, capture_output=True
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert b"evidence/EX-001-photo.jpg: OK" in sums.stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_the_pdf_lists_the_exhibit_with_its_hash(
    client: TestClient, alice: User, tmp_path: Path
) -> None:
    diary = small_diary(client, alice, "Printed")
    _upload(client, alice, [diary["incidents"][2]["id"]], "Staff entrance photo")
    token = _shared(client, alice)
    path = tmp_path / "chronology.pdf"
    path.write_bytes(client.get(f"/s/{token}/chronology.pdf").content)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    text = re.sub(r"\s+", " ", result.stdout.decode())
    assert "EX-001" in text and "Staff entrance photo" in text
    assert s.sha256(s.jpeg_with_exif()) in text.replace(" ", "")
    assert "No exhibits are attached" not in text


def test_evidence_outside_the_share_is_not_exposed(client: TestClient, alice: User) -> None:
    diary = small_diary(client, alice, "Scoped")
    first, last = diary["incidents"][0]["id"], diary["incidents"][2]["id"]
    _upload(client, alice, [last], "Late photo")
    _upload(client, alice, [], "Loose photo")
    early = _shared(client, alice, **{"to": "2024-03-15T00:00:00Z"})
    without = token_of(create_share(client, alice))
    for token in (early, without):
        page = client.get(f"/s/{token}").text
        assert "Late photo" not in page and "Loose photo" not in page
        missing = client.get(f"/s/{token}/exhibits/EX-001")
        assert missing.status_code == 404 and "No such exhibit" in missing.text
        assert not [n for n in _bundle(client, token).namelist() if n.startswith("evidence/")]
    _upload(client, alice, [first, last], "Both photo")
    page = client.get(f"/s/{early}").text
    assert "Both photo" in page and "Late photo" not in page
    assert "EX-002" not in page
    assert client.get(f"/s/{early}/exhibits/EX-002").status_code == 404


def test_evidence_the_incident_lists_is_an_exhibit_too(client: TestClient, alice: User) -> None:
    evidence_id = _upload(client, alice, [], "Listed by the entry")
    add_incident(client, alice, evidence_ids=[evidence_id], description="With a photo")
    token = _shared(client, alice)
    assert "Listed by the entry" in client.get(f"/s/{token}").text
    assert client.get(f"/s/{token}/exhibits/EX-001").content == s.jpeg_with_exif()


def test_exhibits_are_numbered_in_the_order_received(client: TestClient, alice: User) -> None:
    incident = add_incident(client, alice)["id"]
    for caption in ("First photo", "Second photo", "Third photo"):
        _upload(client, alice, [incident], caption)
    token = _shared(client, alice)
    page = client.get(f"/s/{token}").text
    rows = re.findall(r'exhibits/(EX-\d+)" download="[^"]+">EX-\d+</a></th><td>(\w+) photo', page)
    assert rows == [("EX-001", "First"), ("EX-002", "Second"), ("EX-003", "Third")]


def test_an_exhibit_number_never_comes_to_mean_another_file(
    client: TestClient, alice: User
) -> None:
    incident = add_incident(client, alice)["id"]
    first, second = (_upload(client, alice, [incident], c) for c in ("First photo", "Kept photo"))
    token = _shared(client, alice)
    deleted = client.delete(f"/v1/evidence/{first}", headers={**alice.auth, "If-Match": "*"})
    assert deleted.status_code == 204
    _upload(client, alice, [incident], "Later photo")
    page = client.get(f"/s/{token}").text
    rows = re.findall(r'exhibits/(EX-\d+)" download="[^"]+">EX-\d+</a></th><td>(\w+) photo', page)
    assert rows == [("EX-002", "Kept"), ("EX-003", "Later")]  # EX-001 stays a gap
    assert client.get(f"/s/{token}/exhibits/EX-001").status_code == 404
    manifest = json.loads(_bundle(client, token).read("manifest.json"))
    kept = manifest["exhibits"][0]
    assert (kept["number"], kept["evidence_id"]) == ("EX-002", second)


def test_deleted_evidence_disappears_from_the_share(client: TestClient, alice: User) -> None:
    incident = add_incident(client, alice)["id"]
    evidence_id = _upload(client, alice, [incident], "Soon deleted")
    token = _shared(client, alice)
    assert client.get(f"/s/{token}/exhibits/EX-001").status_code == 200
    deleted = client.delete(f"/v1/evidence/{evidence_id}", headers={**alice.auth, "If-Match": "*"})
    assert deleted.status_code == 204
    page = client.get(f"/s/{token}").text
    assert "Soon deleted" not in page and "No evidence files are attached" in page
    assert client.get(f"/s/{token}/exhibits/EX-001").status_code == 404
    assert "evidence/EX-001-photo.jpg" not in _bundle(client, token).namelist()


def test_a_tampered_exhibit_is_never_served(
    app: FastAPI, client: TestClient, alice: User, tmp_path: Path
) -> None:
    incident = add_incident(client, alice)["id"]
    evidence_id = _upload(client, alice, [incident], "Tampered")
    data = s.jpeg_with_exif()
    token = _shared(client, alice)
    flip_byte(app, _blob_key(app, evidence_id), HEADER_SIZE + 10)
    response = client.get(f"/s/{token}/exhibits/EX-001")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "This exhibit failed its integrity check" in response.text
    assert data[:200] not in response.content
    as_json = client.get(f"/s/{token}/exhibits/EX-001", headers={"Accept": "application/json"})
    assert as_json.json()["type"].endswith("/evidence-integrity")
    # The bundle breaks off at the exhibit: no file of it, no manifest, nothing that verifies.
    bundle = client.get(f"/s/{token}/bundle.zip")
    assert data[:200] not in bundle.content
    path = tmp_path / "broken.zip"
    path.write_bytes(bundle.content)
    assert not verify_bundle(path).ok
    with contextlib.suppress(zipfile.BadZipFile):
        assert "manifest.json" not in zipfile.ZipFile(path).namelist()


def test_damage_late_in_an_exhibit_breaks_its_download(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    incident = add_incident(client, alice)["id"]
    size = 3 * SEGMENT_SIZE + 5
    data = s.big_jpeg(size)
    evidence_id = s.upload(client, alice.auth, data, incident_ids=incident)
    token = _shared(client, alice)
    flip_byte(app, _blob_key(app, evidence_id), HEADER_SIZE + 2 * CIPHER_SEGMENT_SIZE + 10)
    response = client.get(f"/s/{token}/exhibits/EX-001")
    assert len(response.content) < size
    assert response.content == data[: len(response.content)]  # what came was authentic
    assert hashlib.sha256(response.content).hexdigest() != s.sha256(data)
