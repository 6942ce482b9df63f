"""Helpers for the export job tests: create, wait, download, and a runner that never starts."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.exports.jobs import runner
from app.models import Base
from tests.conftest import User
from tests.diary.support import incident_body

MARKER = "EXPORT-MARKER-5b2e: he waited at the school gate again"


def diary_with_marker(client: TestClient, user: User) -> str:
    """One incident whose description carries MARKER; its id."""
    body = incident_body(description=f"{MARKER}. I was frightened.")
    response = client.post("/v1/incidents", headers=user.auth, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def create(client: TestClient, user: User, **body: Any) -> Any:
    return client.post("/v1/exports", headers=user.auth, json={"format": "pdf", **body})


def created(client: TestClient, user: User, **body: Any) -> dict[str, Any]:
    response = create(client, user, **body)
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/v1/exports/{response.json()['id']}"
    return dict(response.json())


def wait(client: TestClient, user: User, export_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll the job until it is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/exports/{export_id}", headers=user.auth)
        assert response.status_code == 200, response.text
        job = dict(response.json())
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"export {export_id} is still {job['status']}")


def download(client: TestClient, user: User, job: dict[str, Any]) -> bytes:
    """The result, checked against the size and SHA-256 the job reports."""
    response = client.get(f"/v1/exports/{job['id']}/download", headers=user.auth)
    assert response.status_code == 200, response.text
    data = response.content
    assert len(data) == job["size"]
    assert hashlib.sha256(data).hexdigest() == job["sha256"]
    assert response.headers["etag"] == f'"{job["sha256"]}"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith("attachment; ")
    return data


def made(client: TestClient, user: User, **body: Any) -> tuple[dict[str, Any], bytes]:
    job = wait(client, user, created(client, user, **body)["id"])
    assert job["status"] == "done", job
    return job, download(client, user, job)


def hold_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs are queued but no worker starts them (as if the process died before it could)."""
    monkeypatch.setattr(runner.ExportRunner, "start", lambda self, export_id, account_id: None)


def set_row(app: FastAPI, export_id: str, **values: Any) -> None:
    """Change an export row directly, as a crash or the passing of time would."""
    table = Base.metadata.tables["exports"]
    with app.state.ctx.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == uuid.UUID(export_id)).values(**values))


def account_of(app: FastAPI, export_id: str) -> uuid.UUID:
    """The account an export row belongs to (export ids are unique per account only)."""
    table = Base.metadata.tables["exports"]
    with app.state.ctx.engine.connect() as conn:
        found = conn.scalar(select(table.c.account_id).where(table.c.id == uuid.UUID(export_id)))
    assert isinstance(found, uuid.UUID)
    return found
