"""Migration 0010_ids (client-chosen ids are unique per account), on a database with rows.

A diary with every kind of row whose key changes (incidents and subjects with revisions,
evidence linked both ways, an export, a grant with a note and a drafted entry) is taken down to
0009 and back up to head; every read, and the chain check, answers exactly as before. The
migrated schema matches the models, so the app and the migration agree on the keys.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from app.db import make_engine
from app.models import Base
from tests.conftest import ROOT, User
from tests.diary.support import create_incident, create_subject, incident_body
from tests.evidence.support import new_evidence
from tests.exports.jobs_support import created, hold_jobs
from tests.sharing.support import World, grant, link_code
from tests.sharing.support import world as world  # the fixture

KEYED = ("incidents", "subjects", "evidence", "exports", "consent_grants")
READS = (
    "/v1/incidents",
    "/v1/subjects",
    "/v1/evidence",
    "/v1/exports",
    "/v1/grants",
    "/v1/caseworker-notes",
    "/v1/incident-drafts",
    "/v1/diary/integrity",
)


def _migrate(url: str, target: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    engine = make_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        if target == "head":
            command.upgrade(config, target)
        else:
            command.downgrade(config, target)
    engine.dispose()


def _primary_keys(url: str) -> dict[str, list[str]]:
    engine = make_engine(url)
    found = inspect(engine)
    keys = {table: found.get_pk_constraint(table)["constrained_columns"] for table in KEYED}
    engine.dispose()
    return keys


def _schema_drift(url: str) -> list[Any]:
    engine = make_engine(url)
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    return list(drift)


def _reads(client: TestClient, user: User) -> dict[str, Any]:
    answers = {}
    for path in READS:
        response = client.get(path, headers=user.auth)
        assert response.status_code == 200, (path, response.text)
        answers[path] = response.json()
    return answers


def _a_full_diary(client: TestClient, world: World, alice: User) -> None:
    subject = create_subject(client, alice)
    incident = create_incident(client, alice, subject_ids=[subject["id"]])
    new_evidence(client, alice.auth, "A photo of the car", incident_ids=[incident["id"]])
    created(client, alice, format="json")
    granted = grant(client, alice, link_code(client, world.caseworker))
    path = f"/v1/clients/{granted['id']}"
    caseworker = world.caseworker.auth
    note = client.post(f"{path}/notes", headers=caseworker, json={"text": "Called her today."})
    assert note.status_code == 201, note.text
    draft = client.post(f"{path}/incidents", headers=caseworker, json=incident_body())
    assert draft.status_code == 201, draft.text


def test_0010_keeps_every_row_down_to_0009_and_back(
    app: FastAPI,
    client: TestClient,
    world: World,
    alice: User,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hold_jobs(monkeypatch)
    _a_full_diary(client, world, alice)
    before = _reads(client, alice)
    assert before["/v1/diary/integrity"]["ok"] is True
    app.state.ctx.engine.dispose()  # no pooled connection holds a lock over the tables

    _migrate(database_url, "0009_auth2")
    assert set(map(tuple, _primary_keys(database_url).values())) == {("id",)}
    _migrate(database_url, "head")

    assert _primary_keys(database_url) == {table: ["account_id", "id"] for table in KEYED}
    assert _reads(client, alice) == before
    assert _schema_drift(database_url) == []
