"""The audit trail: who accessed the victim's data and what changed, newest first, append-only,
and gone with the account when it is erased."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.audit.record import AuditActor, record_audit
from app.models import AuditEvent
from app.security.keys import load_data_key
from tests.conftest import PASSWORD, User, stored_bytes
from tests.sharing.support import World, assert_problem, grant, link_code

SHARING = "action=grant.created&action=grant.revoked&action=client.viewed&action=note.created"


def _audit(client: TestClient, user: User, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/v1/audit?limit=200&{query}", headers=user.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _account_id(client: TestClient, user: User) -> str:
    return str(client.get("/v1/me", headers=user.auth).json()["id"])


def test_the_victim_sees_who_did_what_and_when(
    client: TestClient, world: World, alice: User
) -> None:
    started = datetime.now(UTC)
    made = grant(client, alice, link_code(client, world.caseworker), scope="assist")
    cw = {**world.caseworker.auth, "User-Agent": "caseworker-browser/1.0"}
    assert client.get(f"/v1/clients/{made['id']}", headers=cw).status_code == 200
    note = client.post(f"/v1/clients/{made['id']}/notes", headers=cw, json={"text": "hi"}).json()
    assert client.delete(f"/v1/grants/{made['id']}", headers=alice.auth).status_code == 204
    events = _audit(client, alice, SHARING)
    me = _account_id(client, alice)
    victim = {"kind": "victim", "id": me, "name": None}
    caseworker = {"kind": "caseworker", "id": made["id"], "name": "Sam Okafor, Safe Haven"}
    grant_object = {"type": "grant", "id": made["id"]}
    assert [(e["action"], e["actor"], e["object"]) for e in events] == [
        ("grant.revoked", victim, grant_object),
        ("note.created", caseworker, {"type": "note", "id": note["id"]}),
        ("client.viewed", caseworker, grant_object),
        ("grant.created", victim, grant_object),
    ]
    for event in events:
        assert event["source"] == "audit"
        assert event["address"] == "testclient"
        assert started <= datetime.fromisoformat(event["created_at"]) <= datetime.now(UTC)
    assert [e["user_agent"] for e in events[1:3]] == ["caseworker-browser/1.0"] * 2
    assert events[0]["details"] == {"reason": "revoked"}
    assert events[3]["details"] == {
        "scope": "assist",
        "expires_at": made["expires_at"].replace("Z", "+00:00"),
        "caseworker": "Sam Okafor, Safe Haven",
    }


def test_security_events_are_part_of_the_trail(client: TestClient, alice: User) -> None:
    bad = client.post("/v1/auth/token", json={"username": alice.username, "password": "wrong" * 4})
    assert bad.status_code == 401
    events = _audit(client, alice)
    assert [e["action"] for e in events] == [
        "security.login_failed",
        "security.new_device",
        "security.login",
        "security.account_created",
    ]
    assert {e["source"] for e in events} == {"security"}
    assert events[0]["actor"] == {"kind": "anonymous", "id": None, "name": None}
    assert events[2]["actor"]["kind"] == "victim"
    assert events[2]["object"] == {"type": "session", "id": alice.session_id}


def test_the_trail_filters_by_action(client: TestClient, world: World, alice: User) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    client.get(f"/v1/clients/{made['id']}", headers=world.caseworker.auth)
    only = _audit(client, alice, "action=client.viewed&action=security.login")
    assert [e["action"] for e in only] == ["client.viewed", "security.login"]
    assert _audit(client, alice, "action=export.downloaded") == []


def test_the_trail_pages_newest_first_across_both_sources(
    client: TestClient, world: World, alice: User
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    for _ in range(3):
        client.get(f"/v1/clients/{made['id']}", headers=world.caseworker.auth)
    everything = _audit(client, alice)
    assert len(everything) == 7
    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = "/v1/audit?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(query, headers=alice.auth).json()
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == everything
    keys = [(e["created_at"], e["id"]) for e in everything]
    assert keys == sorted(keys, reverse=True)


def test_the_trail_is_the_victims_alone(
    client: TestClient, world: World, alice: User, bob: User
) -> None:
    grant(client, alice, link_code(client, world.caseworker))
    assert {e["action"] for e in _audit(client, bob)} <= {
        "security.login",
        "security.new_device",
        "security.account_created",
    }
    for staff in (world.caseworker, world.org_admin, world.admin):
        assert_problem(client.get("/v1/audit", headers=staff.auth), 403, "forbidden")
    assert_problem(client.get("/v1/audit"), 401, "unauthorized")


def test_audit_context_is_sealed(
    client: TestClient, world: World, alice: User, app: FastAPI
) -> None:
    marker = f"UA-{uuid.uuid4().hex}"
    made = grant(client, alice, link_code(client, world.caseworker))
    headers = {**world.caseworker.auth, "User-Agent": marker}
    client.get(f"/v1/clients/{made['id']}", headers=headers)
    assert _audit(client, alice, "action=client.viewed")[0]["user_agent"] == marker
    assert marker.encode() not in stored_bytes(app)


def _audit_count(app: FastAPI) -> int:
    with app.state.ctx.sessionmaker() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_audit_rows_cannot_be_changed_or_deleted(
    client: TestClient, world: World, alice: User, app: FastAPI
) -> None:
    grant(client, alice, link_code(client, world.caseworker))
    engine = app.state.ctx.engine
    for statement in (
        "UPDATE audit_events SET action = 'grant.revoked'",
        "UPDATE audit_events SET context_enc = NULL",
        "DELETE FROM audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_events"))
    assert _audit_count(app) == 1
    assert _audit(client, alice, "action=grant.created")[0]["action"] == "grant.created"


def test_erasing_the_account_removes_its_audit_rows(
    client: TestClient, world: World, alice: User, bob: User, app: FastAPI
) -> None:
    grant(client, alice, link_code(client, world.caseworker))
    grant(client, bob, link_code(client, world.caseworker))
    assert _audit_count(app) == 2
    erased = client.request("DELETE", "/v1/me", headers=alice.auth, json={"password": PASSWORD})
    assert erased.status_code == 204, erased.text
    assert _audit_count(app) == 1
    assert [e["action"] for e in _audit(client, bob, "action=grant.created")] == ["grant.created"]
    assert len(client.get("/v1/clients", headers=world.caseworker.auth).json()["items"]) == 1


def test_record_audit_refuses_unknown_actions(
    client: TestClient, alice: User, app: FastAPI
) -> None:
    ctx = app.state.ctx
    with ctx.sessionmaker() as session:
        key = load_data_key(session, ctx.keyring, uuid.UUID(_account_id(client, alice)))
        with pytest.raises(ValueError, match="unknown audit action"):
            record_audit(session, key, AuditActor("system"), "made.up")
        with pytest.raises(ValueError, match="object type"):
            record_audit(session, key, AuditActor("system"), "share.accessed", object_type="X!")
