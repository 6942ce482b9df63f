"""A caseworker reads a client's diary within the consent's scope, and drafts on their behalf."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import User
from tests.diary.support import incident_body
from tests.sharing.shares_support import create_share, small_diary, token_of
from tests.sharing.support import World, assert_problem, grant, link_code, past, set_column


def _client_of(client: TestClient, world: World, victim: User, scope: str) -> str:
    return str(grant(client, victim, link_code(client, world.caseworker), scope=scope)["id"])


def _trail(client: TestClient, victim: User) -> list[dict[str, Any]]:
    return list(client.get("/v1/audit", headers=victim.auth).json()["items"])


def test_each_scope_reads_what_it_covers_and_no_more(
    client: TestClient, world: World, alice: User
) -> None:
    diary = small_diary(client, alice, "Scoped")
    first = diary["incidents"][0]["id"]
    cw = world.caseworker.auth
    expected = {
        "summary": (200, 403, 403, 403),
        "diary": (200, 200, 200, 403),
        "assist": (200, 200, 200, 201),
    }
    for scope, statuses in expected.items():
        client_id = _client_of(client, world, alice, scope)
        got = (
            client.get(f"/v1/clients/{client_id}/chronology", headers=cw).status_code,
            client.get(f"/v1/clients/{client_id}/incidents", headers=cw).status_code,
            client.get(f"/v1/clients/{client_id}/incidents/{first}", headers=cw).status_code,
            client.post(
                f"/v1/clients/{client_id}/incidents", headers=cw, json=incident_body()
            ).status_code,
        )
        assert got == statuses, scope
    narrow = _client_of(client, world, alice, "summary")
    refused = client.get(f"/v1/clients/{narrow}/incidents", headers=cw)
    assert_problem(refused, 403, "scope-insufficient")


def test_the_caseworker_sees_what_the_client_sees(
    client: TestClient, world: World, alice: User
) -> None:
    small_diary(client, alice, "Same")
    client_id = _client_of(client, world, alice, "diary")
    cw = world.caseworker.auth
    own = client.get("/v1/chronology", headers=alice.auth).json()
    theirs = client.get(f"/v1/clients/{client_id}/chronology", headers=cw).json()
    for part in ("risk_markers", "offences", "four", "timeline", "risk_screening"):
        assert theirs[part] == own[part], part
    mine = client.get("/v1/incidents", headers=alice.auth).json()["items"]
    listed = client.get(f"/v1/clients/{client_id}/incidents", headers=cw).json()
    assert listed["items"] == [{**item, "drafted_by": None} for item in mine]
    one = client.get(f"/v1/clients/{client_id}/incidents/{mine[1]['id']}", headers=cw).json()
    assert one == {**mine[1], "drafted_by": None}


def test_every_read_is_in_the_clients_audit_trail(
    client: TestClient, world: World, alice: User
) -> None:
    diary = small_diary(client, alice, "Audited")
    client_id = _client_of(client, world, alice, "diary")
    cw = world.caseworker.auth
    first = diary["incidents"][0]["id"]
    client.get(f"/v1/clients/{client_id}", headers=cw)
    client.get(f"/v1/clients/{client_id}/chronology?from=2024-03-01T00:00:00Z", headers=cw)
    client.get(f"/v1/clients/{client_id}/incidents", headers=cw)
    client.get(f"/v1/clients/{client_id}/incidents/{first}", headers=cw)
    events = [e for e in _trail(client, alice) if e["actor"]["kind"] == "caseworker"]
    assert [(e["action"], e["object"]["type"]) for e in events] == [
        ("incidents.viewed", "incident"),
        ("incidents.viewed", "grant"),
        ("chronology.viewed", "grant"),
        ("client.viewed", "grant"),
    ]
    assert events[0]["object"]["id"] == first
    assert events[1]["details"] == {"count": "3"}
    assert events[2]["details"] == {"from": "2024-03-01T00:00:00+00:00"}
    for event in events:
        assert event["actor"] == {
            "kind": "caseworker",
            "id": client_id,
            "name": "Sam Okafor, Safe Haven",
        }
        assert event["address"] == "testclient"


def test_consent_ending_stops_reads_at_once(
    app: FastAPI, client: TestClient, world: World, alice: User, bob: User
) -> None:
    diary = small_diary(client, alice, "Ended")
    first = diary["incidents"][0]["id"]
    cw = world.caseworker.auth
    revoked = _client_of(client, world, alice, "assist")
    expired = _client_of(client, world, bob, "assist")
    set_column(app, "consent_grants", expired, expires_at=past())
    assert client.delete(f"/v1/grants/{revoked}", headers=alice.auth).status_code == 204
    for client_id in (revoked, expired):
        for method, path in (
            ("GET", f"/v1/clients/{client_id}/chronology"),
            ("GET", f"/v1/clients/{client_id}/incidents"),
            ("GET", f"/v1/clients/{client_id}/incidents/{first}"),
            ("POST", f"/v1/clients/{client_id}/incidents"),
        ):
            body = incident_body() if method == "POST" else None
            response = client.request(method, path, headers=cw, json=body)
            assert_problem(response, 404, "not-found")


def test_another_clients_incident_is_not_found(
    client: TestClient, world: World, alice: User, bob: User
) -> None:
    bobs = small_diary(client, bob, "BobOnly")["incidents"][0]["id"]
    client_id = _client_of(client, world, alice, "diary")
    response = client.get(
        f"/v1/clients/{client_id}/incidents/{bobs}", headers=world.caseworker.auth
    )
    assert_problem(response, 404, "not-found")
    assert "BobOnly" not in response.text


def test_a_drafted_incident_is_the_clients_and_marked_as_the_caseworkers(
    client: TestClient, world: World, alice: User
) -> None:
    client_id = _client_of(client, world, alice, "assist")
    cw = world.caseworker.auth
    before = client.get("/v1/diary/integrity", headers=alice.auth).json()
    body = incident_body(description="Drafted from our phone call.")
    drafted = client.post(f"/v1/clients/{client_id}/incidents", headers=cw, json=body)
    assert drafted.status_code == 201, drafted.text
    out = drafted.json()
    mark = out["drafted_by"]
    assert mark == {
        "revision": 1,
        "author": "Sam Okafor",
        "organisation": "Safe Haven",
        "drafted_at": mark["drafted_at"],
        "note_id": mark["note_id"],
        "reviewed": False,
    }
    # In the client's own diary and chain: the entry and the note announcing it.
    mine = client.get(f"/v1/incidents/{out['id']}", headers=alice.auth).json()
    assert mine == {k: v for k, v in out.items() if k != "drafted_by"}
    after = client.get("/v1/diary/integrity", headers=alice.auth).json()
    assert after["ok"] is True and after["length"] == before["length"] + 2
    notes = client.get("/v1/caseworker-notes", headers=alice.auth).json()["items"]
    assert [n["id"] for n in notes] == [mark["note_id"]]
    assert out["id"] in notes[0]["text"] and notes[0]["author"] == "Sam Okafor"
    drafts = client.get("/v1/incident-drafts", headers=alice.auth).json()
    assert drafts == {
        "items": [
            {
                "incident_id": out["id"],
                "current_revision": 1,
                "withdrawn": False,
                "drafted_by": mark,
            }
        ],
        "next_cursor": None,
    }
    trail = [e for e in _trail(client, alice) if e["action"] == "incident.drafted"]
    assert len(trail) == 1 and trail[0]["object"] == {"type": "incident", "id": out["id"]}
    # A repeat of the same create returns the entry with its mark, and drafts nothing more.
    again = client.post(
        f"/v1/clients/{client_id}/incidents", headers=cw, json={**body, "id": out["id"]}
    )
    assert again.status_code == 200 and again.json() == out
    assert len(client.get("/v1/incident-drafts", headers=alice.auth).json()["items"]) == 1
    assert len(client.get("/v1/caseworker-notes", headers=alice.auth).json()["items"]) == 1


def test_the_mark_follows_the_entry_to_the_victims_review_and_to_shares(
    client: TestClient, world: World, alice: User
) -> None:
    client_id = _client_of(client, world, alice, "assist")
    cw = world.caseworker.auth
    out = client.post(
        f"/v1/clients/{client_id}/incidents",
        headers=cw,
        json=incident_body(description="In the caseworker's words."),
    ).json()
    token = token_of(create_share(client, alice))
    page = client.get(f"/s/{token}").text
    assert "Drafted on the victim&#39;s behalf by Sam Okafor, Safe Haven" in page
    assert "the words are the caseworker&#39;s" in page
    bundle = zipfile.ZipFile(io.BytesIO(client.get(f"/s/{token}/bundle.zip").content))
    shared = json.loads(bundle.read("chronology.json"))["timeline"][0]["description"]
    assert shared.startswith("[Drafted on the victim's behalf by Sam Okafor, Safe Haven")
    assert shared.endswith("In the caseworker's words.")
    amended = client.patch(
        f"/v1/incidents/{out['id']}",
        headers={**alice.auth, "If-Match": out["etag"]},
        json={"description": "In my own words now."},
    )
    assert amended.status_code == 200, amended.text
    seen = client.get(f"/v1/clients/{client_id}/incidents/{out['id']}", headers=cw).json()
    assert seen["drafted_by"]["reviewed"] is True and seen["revision"] == 2
    page = client.get(f"/s/{token}").text
    assert "amended by the victim since" in page
