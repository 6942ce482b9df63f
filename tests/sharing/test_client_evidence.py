"""A caseworker reads a client's evidence within the consent's scope: the records as the client
sees them, the files bit for bit (ranges too), every read in the client's audit trail."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.crypto.stream import HEADER_SIZE
from app.models import Evidence
from tests.conftest import User
from tests.evidence import support as s
from tests.evidence.conftest import flip_byte
from tests.sharing.shares_support import add_incident
from tests.sharing.support import World, assert_problem, grant, link_code


def _client_of(client: TestClient, world: World, victim: User, scope: str) -> str:
    return str(grant(client, victim, link_code(client, world.caseworker), scope=scope)["id"])


def _caseworker_events(client: TestClient, victim: User) -> list[dict[str, Any]]:
    items = client.get("/v1/audit", headers=victim.auth).json()["items"]
    return [event for event in items if event["actor"]["kind"] == "caseworker"]


def test_summary_scope_cannot_read_evidence(client: TestClient, world: World, alice: User) -> None:
    evidence_id = s.new_evidence(client, alice.auth, "Not for summary")
    client_id = _client_of(client, world, alice, "summary")
    for path in ("", f"/{evidence_id}", f"/{evidence_id}/content"):
        response = client.get(
            f"/v1/clients/{client_id}/evidence{path}", headers=world.caseworker.auth
        )
        assert_problem(response, 403, "scope-insufficient")
        assert "Not for summary" not in response.text
    assert _caseworker_events(client, alice) == []


def test_diary_scope_reads_evidence_as_the_client_sees_it(
    client: TestClient, world: World, alice: User
) -> None:
    incident = add_incident(client, alice)["id"]
    first = s.new_evidence(client, alice.auth, "At the gate", [incident])
    s.new_evidence(client, alice.auth, "His car")
    client_id = _client_of(client, world, alice, "diary")
    cw, base = world.caseworker.auth, f"/v1/clients/{client_id}/evidence"
    mine = client.get("/v1/evidence", headers=alice.auth).json()
    assert client.get(base, headers=cw).json() == mine
    page = client.get(f"{base}?limit=1", headers=cw).json()
    assert page["items"] == mine["items"][:1] and page["next_cursor"]
    rest = client.get(f"{base}?limit=1&cursor={page['next_cursor']}", headers=cw).json()
    assert rest == {"items": mine["items"][1:], "next_cursor": None}
    linked = client.get(f"{base}?incident_id={incident}", headers=cw).json()
    assert [item["id"] for item in linked["items"]] == [first]
    one = client.get(f"{base}/{first}", headers=cw)
    assert one.json() == client.get(f"/v1/evidence/{first}", headers=alice.auth).json()
    assert one.headers["etag"] == mine["items"][0]["etag"]


def test_diary_scope_downloads_the_file_and_ranges_of_it(
    client: TestClient, world: World, alice: User
) -> None:
    data = s.big_jpeg(200_000)
    evidence_id = s.upload(client, alice.auth, data, filename="gate.jpg")
    client_id = _client_of(client, world, alice, "diary")
    path = f"/v1/clients/{client_id}/evidence/{evidence_id}/content"
    whole = client.get(path, headers=world.caseworker.auth)
    assert whole.status_code == 200 and whole.content == data
    own = client.get(f"/v1/evidence/{evidence_id}/content", headers=alice.auth)
    for name in ("content-type", "content-length", "etag", "content-disposition"):
        assert whole.headers[name] == own.headers[name], name
    part = client.get(path, headers={**world.caseworker.auth, "Range": "bytes=70000-70099"})
    assert part.status_code == 206 and part.content == data[70000:70100]
    assert part.headers["content-range"] == f"bytes 70000-70099/{len(data)}"
    beyond = client.get(path, headers={**world.caseworker.auth, "Range": "bytes=999999-"})
    assert_problem(beyond, 416, "range-not-satisfiable")


def test_another_clients_evidence_is_not_found(
    client: TestClient, world: World, alice: User, bob: User
) -> None:
    bobs = s.new_evidence(client, bob.auth, "BobOnly")
    client_id = _client_of(client, world, alice, "diary")
    for suffix in ("", "/content"):
        response = client.get(
            f"/v1/clients/{client_id}/evidence/{bobs}{suffix}", headers=world.caseworker.auth
        )
        assert_problem(response, 404, "not-found")
        assert "BobOnly" not in response.text
    listed = client.get(f"/v1/clients/{client_id}/evidence", headers=world.caseworker.auth)
    assert listed.json() == {"items": [], "next_cursor": None}


def test_another_caseworker_cannot_use_the_client_id(
    client: TestClient, world: World, alice: User
) -> None:
    evidence_id = s.new_evidence(client, alice.auth, "Only Sam")
    client_id = _client_of(client, world, alice, "diary")
    for suffix in ("", f"/{evidence_id}", f"/{evidence_id}/content"):
        response = client.get(
            f"/v1/clients/{client_id}/evidence{suffix}", headers=world.caseworker_b.auth
        )
        assert_problem(response, 404, "not-found")
        assert "Only Sam" not in response.text


def test_every_evidence_read_is_in_the_clients_audit_trail(
    client: TestClient, world: World, alice: User
) -> None:
    evidence_id = s.new_evidence(client, alice.auth, "Audited")
    client_id = _client_of(client, world, alice, "diary")
    cw, base = world.caseworker.auth, f"/v1/clients/{client_id}/evidence"
    assert client.get(base, headers=cw).status_code == 200
    assert client.get(f"{base}/{evidence_id}", headers=cw).status_code == 200
    assert client.get(f"{base}/{evidence_id}/content", headers=cw).status_code == 200
    ranged = {**cw, "Range": "bytes=0-9"}
    assert client.get(f"{base}/{evidence_id}/content", headers=ranged).status_code == 206
    events = _caseworker_events(client, alice)
    assert [(e["action"], e["object"]["type"], e["object"]["id"]) for e in events] == [
        ("evidence.downloaded", "evidence", evidence_id),
        ("evidence.downloaded", "evidence", evidence_id),
        ("evidence.viewed", "evidence", evidence_id),
        ("evidence.viewed", "grant", client_id),
    ]
    assert events[-1]["details"] == {"count": "1"}
    for event in events:
        assert event["actor"] == {
            "kind": "caseworker",
            "id": client_id,
            "name": "Sam Okafor, Safe Haven",
        }
        assert event["address"] == "testclient"


def test_deleted_evidence_is_gone_for_the_caseworker_too(
    client: TestClient, world: World, alice: User
) -> None:
    evidence_id = s.new_evidence(client, alice.auth, "Deleted")
    client_id = _client_of(client, world, alice, "diary")
    gone = client.delete(f"/v1/evidence/{evidence_id}", headers={**alice.auth, "If-Match": "*"})
    assert gone.status_code == 204
    base = f"/v1/clients/{client_id}/evidence"
    for suffix in (f"/{evidence_id}", f"/{evidence_id}/content"):
        response = client.get(f"{base}{suffix}", headers=world.caseworker.auth)
        assert_problem(response, 410, "deleted")
    assert client.get(base, headers=world.caseworker.auth).json()["items"] == []
    assert [e["action"] for e in _caseworker_events(client, alice)] == ["evidence.viewed"]


def test_ended_consent_stops_evidence_reads(client: TestClient, world: World, alice: User) -> None:
    evidence_id = s.new_evidence(client, alice.auth)
    client_id = _client_of(client, world, alice, "assist")
    assert client.delete(f"/v1/grants/{client_id}", headers=alice.auth).status_code == 204
    for suffix in ("", f"/{evidence_id}", f"/{evidence_id}/content"):
        response = client.get(
            f"/v1/clients/{client_id}/evidence{suffix}", headers=world.caseworker.auth
        )
        assert_problem(response, 404, "not-found")


def test_a_tampered_file_is_never_sent_to_the_caseworker(
    app: FastAPI, client: TestClient, world: World, alice: User
) -> None:
    data = s.jpeg_with_exif()
    evidence_id = s.new_evidence(client, alice.auth, "Tampered")
    with app.state.ctx.sessionmaker() as session:
        row = session.scalars(
            select(Evidence).where(Evidence.id == uuid.UUID(evidence_id))
        ).one_or_none()
        assert row is not None and row.blob_key is not None
        blob_key = row.blob_key
    flip_byte(app, blob_key, HEADER_SIZE + 10)
    client_id = _client_of(client, world, alice, "diary")
    response = client.get(
        f"/v1/clients/{client_id}/evidence/{evidence_id}/content", headers=world.caseworker.auth
    )
    assert_problem(response, 500, "evidence-integrity")
    assert data[:200] not in response.content
