"""`python -m app.cli cleanup`: abandoned uploads expire and what they stored is removed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from app import cli
from app.blobs import BlobStoreError
from app.db import utcnow
from app.evidence.cleanup import run_cleanup
from app.models import EvidenceUpload
from app.settings import Settings, get_settings
from tests.conftest import User
from tests.evidence import support as s
from tests.evidence.conftest import stored_blobs, uploads_in_progress


def _expire(app: FastAPI, location: str) -> None:
    upload_id = uuid.UUID(location.rsplit("/", 1)[-1])
    with app.state.ctx.sessionmaker.begin() as session:
        session.execute(
            update(EvidenceUpload)
            .where(EvidenceUpload.id == upload_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )


def _run_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        assert cli.main(["cleanup"]) == 0
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_cleanup_removes_abandoned_uploads_and_leaves_everything_else(
    client: TestClient,
    alice: User,
    app: FastAPI,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = s.big_jpeg(600_000)
    abandoned = s.create_upload(client, alice.auth, len(data))
    assert s.patch(client, alice.auth, abandoned, 0, data[:400_000]).status_code == 204
    fresh = s.create_upload(client, alice.auth, len(data))
    assert s.patch(client, alice.auth, fresh, 0, data[:300_000]).status_code == 204
    finished = s.upload(client, alice.auth, data)
    before = stored_blobs(app)
    _expire(app, abandoned)
    _expire(app, f"/v1/uploads/{finished}")

    _run_cli(settings, monkeypatch)

    assert "removed 1 expired uploads, 1 finished upload records" in capsys.readouterr().out
    assert s.head(client, alice.auth, abandoned).status_code == 404
    assert s.head(client, alice.auth, fresh).headers["Upload-Offset"] == "300000"
    assert s.head(client, alice.auth, f"/v1/uploads/{finished}").status_code == 404
    content = client.get(f"/v1/evidence/{finished}/content", headers=alice.auth)
    assert content.content == data
    after = stored_blobs(app)
    assert set(after) < set(before)
    assert not [name for name in after if str(abandoned.rsplit("/", 1)[-1]) in name]
    assert not [key for key in uploads_in_progress(app) if abandoned.rsplit("/", 1)[-1] in key]
    assert s.patch(client, alice.auth, fresh, 300_000, data[300_000:]).status_code == 204


@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)
def test_cleanup_removes_blobs_whose_removal_failed_and_orphans(
    client: TestClient, alice: User, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = s.multipart(client, alice.auth, s.jpeg_with_exif()).json()
    doomed = s.multipart(client, alice.auth, s.jpeg_with_exif() + b"!").json()
    store = app.state.ctx.blobs

    def store_down(key: str) -> None:
        raise BlobStoreError("the store is down")

    with monkeypatch.context() as patched:
        patched.setattr(store, "delete", store_down)
        response = client.delete(
            f"/v1/evidence/{doomed['id']}", headers={**alice.auth, "If-Match": doomed["etag"]}
        )
        assert response.status_code == 204  # deleted for the victim at once; the blob waits
    assert len(stored_blobs(app)) == 2
    # A file stored by a request that died before recording it, and one half-stored.
    whole = store.start_upload(f"evidence/{uuid.uuid4()}/{uuid.uuid4()}.0011223344556677")
    store.complete(store.append(whole, [b"x" * 1000]))

    report = run_cleanup(app.state.ctx)
    assert (report.deleted_blobs, report.orphans) == (1, 0)  # the orphan is too young yet
    # (moto dates every multipart upload in 2010, so this one is made after that first run)
    half = store.start_upload(f"evidence/{uuid.uuid4()}/{uuid.uuid4()}.8899aabbccddeeff")
    store.append(half, [b"y" * 1000])
    report = run_cleanup(app.state.ctx, now=utcnow() + timedelta(days=2))
    assert report.orphans == 2
    assert len(stored_blobs(app)) == 1
    assert uploads_in_progress(app) == []
    content = client.get(f"/v1/evidence/{kept['id']}/content", headers=alice.auth)
    assert content.content == s.jpeg_with_exif()
