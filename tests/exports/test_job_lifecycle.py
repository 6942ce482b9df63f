"""An export job's life outside the happy path: not ready yet, too many at once, the process
that queued it gone, its worker dead, its result expired and cleaned up, its evidence altered."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import cli
from app.errors import DEFAULT_PROBLEM_TYPE_BASE
from app.exports.jobs import runner
from app.exports.jobs.cleanup import run_export_cleanup
from app.main import create_app
from app.settings import Settings
from tests.conftest import User
from tests.evidence.conftest import stored_blobs
from tests.evidence.support import jpeg_with_exif, multipart
from tests.exports.jobs_support import (
    account_of,
    create,
    created,
    diary_with_marker,
    download,
    hold_jobs,
    made,
    set_row,
    wait,
)

PROBLEM = DEFAULT_PROBLEM_TYPE_BASE  # PUBLIC_BASE_URL (the default) + /problems/


def _problem(response: Any, status: int, type_: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == PROBLEM + type_


def _download(client: TestClient, user: User, job: dict[str, Any]) -> Any:
    return client.get(f"/v1/exports/{job['id']}/download", headers=user.auth)


def _ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def test_a_download_before_the_export_is_done_is_409(
    client: TestClient, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_jobs(monkeypatch)
    job = created(client, alice, format="json")
    assert job["status"] == "queued"
    _problem(_download(client, alice, job), 409, "export-not-ready")
    assert client.get(f"/v1/exports/{job['id']}", headers=alice.auth).json()["status"] == "queued"
    monkeypatch.undo()  # a worker is free again: the next read starts the job
    download(client, alice, wait(client, alice, job["id"]))


def test_more_than_three_exports_in_progress_is_429(
    client: TestClient, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_jobs(monkeypatch)
    for _ in range(3):
        created(client, alice, format="json")
    refused = create(client, alice, format="json")
    _problem(refused, 429, "too-many-exports")
    assert refused.headers["retry-after"]
    assert len(client.get("/v1/exports", headers=alice.auth).json()["items"]) == 3
    created(client, bob, format="json")  # the limit is per account


def test_a_job_outlives_the_process_that_queued_it(
    client: TestClient, settings: Settings, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    diary_with_marker(client, alice)
    hold_jobs(monkeypatch)
    job = created(client, alice, format="pdf")
    monkeypatch.undo()
    restarted = create_app(settings)  # a new process: only the database knows the job
    try:
        with TestClient(restarted, raise_server_exceptions=False) as other:
            done = wait(other, alice, job["id"])
            assert done["status"] == "done"
            assert download(other, alice, done).startswith(b"%PDF")
    finally:
        restarted.state.ctx.engine.dispose()


def test_a_job_whose_worker_died_is_taken_over(
    client: TestClient, app: FastAPI, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_jobs(monkeypatch)
    job = created(client, alice, format="json")
    dead = {"status": "running", "attempts": 1, "lease_token": "dead" * 8}
    set_row(app, job["id"], **dead, lease_until=_ago(seconds=1), blob_key="exports/x/gone.1")
    monkeypatch.undo()
    done = wait(client, alice, job["id"])
    assert done["status"] == "done"
    download(client, alice, done)


def test_a_running_job_with_a_live_lease_is_left_alone(
    client: TestClient, app: FastAPI, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_jobs(monkeypatch)
    job = created(client, alice, format="json")
    later = datetime.now(UTC) + timedelta(minutes=5)
    set_row(app, job["id"], status="running", attempts=1, lease_token="live" * 8, lease_until=later)
    monkeypatch.undo()
    assert runner.claim(app.state.ctx, account_of(app, job["id"]), uuid.UUID(job["id"])) is None
    got = client.get(f"/v1/exports/{job['id']}", headers=alice.auth).json()
    assert got["status"] == "running"


def test_a_job_that_keeps_killing_its_worker_is_failed(
    client: TestClient, app: FastAPI, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_jobs(monkeypatch)
    job = created(client, alice, format="json")
    dead = {"status": "running", "attempts": runner.MAX_ATTEMPTS, "lease_token": "dead" * 8}
    set_row(app, job["id"], **dead, lease_until=_ago(seconds=1))
    monkeypatch.undo()
    failed = wait(client, alice, job["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == runner.GAVE_UP
    _problem(_download(client, alice, job), 409, "export-not-ready")
    # A failed job no longer counts against the limit.
    hold_jobs(monkeypatch)
    for _ in range(3):
        created(client, alice, format="json")


def test_an_expired_export_is_410_and_the_cleanup_removes_its_result(
    client: TestClient, app: FastAPI, alice: User
) -> None:
    job, _ = made(client, alice, format="json")
    set_row(app, job["id"], expires_at=_ago(seconds=1))
    assert client.get(f"/v1/exports/{job['id']}", headers=alice.auth).json()["status"] == "expired"
    _problem(_download(client, alice, job), 410, "export-expired")
    report = run_export_cleanup(app.state.ctx)
    assert (report.expired, report.abandoned, report.orphans) == (1, 0, 0)
    assert not any(name.startswith("exports/") for name in stored_blobs(app))
    assert client.get(f"/v1/exports/{job['id']}", headers=alice.auth).json()["status"] == "expired"
    _problem(_download(client, alice, job), 410, "export-expired")


def test_the_cleanup_command_fails_abandoned_jobs_and_removes_orphans(
    client: TestClient,
    app: FastAPI,
    settings: Settings,
    alice: User,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    done, _ = made(client, alice, format="json")
    hold_jobs(monkeypatch)
    stuck = created(client, alice, format="json")
    set_row(app, stuck["id"], created_at=_ago(days=1))
    # A result whose row is gone (an erased account): removed once old enough.
    set_row(app, done["id"], blob_key=None)
    for name, value in {
        "DATABASE_URL": settings.effective_database_url,
        "DATA_DIR": str(settings.data_dir),
        "ENVIRONMENT": "test",
        "UPLOAD_EXPIRY_SECONDS": "60",
    }.items():
        monkeypatch.setenv(name, value)
    cli.get_settings.cache_clear()
    try:
        _age_blobs(app, days=2)
        assert cli.main(["cleanup"]) == 0
    finally:
        cli.get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "failed 1 abandoned export jobs, removed 1 orphaned export results" in out
    assert client.get(f"/v1/exports/{stuck['id']}", headers=alice.auth).json()["status"] == "failed"
    assert not any(name.startswith("exports/") for name in stored_blobs(app))


def _age_blobs(app: FastAPI, *, days: float) -> None:
    root: Path = app.state.ctx.blobs.root
    then = time.time() - days * 86400
    for path in root.rglob("*"):
        os.utime(path, (then, then))


def test_a_bundle_whose_evidence_was_altered_fails_and_says_why(
    client: TestClient, app: FastAPI, alice: User
) -> None:
    incident_id = diary_with_marker(client, alice)
    response = multipart(client, alice.auth, jpeg_with_exif(), fields={"incident_ids": incident_id})
    assert response.status_code == 201, response.text
    root: Path = app.state.ctx.blobs.root
    [stored] = [p for p in root.rglob("*") if p.is_file() and "evidence" in p.parts]
    data = bytearray(stored.read_bytes())
    data[40] ^= 1
    stored.write_bytes(bytes(data))
    job = wait(client, alice, created(client, alice, format="bundle")["id"])
    assert job["status"] == "failed"
    assert job["error"] == runner.EVIDENCE_ALTERED
    assert not any(name.startswith("exports/") for name in stored_blobs(app))
