"""Caseworker notes: written under an `assist` grant, sealed under the victim's key, shown to
the victim apart from their own entries, kept when the grant ends."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import User, stored_bytes
from tests.sharing.support import World, assert_problem, grant, link_code


def _note(client: TestClient, world: World, client_id: str, text: str) -> dict[str, object]:
    response = client.post(
        f"/v1/clients/{client_id}/notes", headers=world.caseworker.auth, json={"text": text}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_note_reaches_the_victim_and_is_stored_sealed(
    client: TestClient, world: World, alice: User, app: FastAPI
) -> None:
    marker = f"NOTE-{uuid.uuid4().hex}"
    made = grant(client, alice, link_code(client, world.caseworker))
    note = _note(client, world, made["id"], f"Called {marker}; safety plan agreed.")
    assert note == {
        "id": note["id"],
        "client_id": made["id"],
        "author": "Sam Okafor",
        "organisation": "Safe Haven",
        "text": f"Called {marker}; safety plan agreed.",
        "created_at": note["created_at"],
    }
    mine = client.get("/v1/caseworker-notes", headers=alice.auth).json()
    assert mine == {"items": [note], "next_cursor": None}
    assert client.get("/v1/caseworker-notes", headers=world.caseworker.auth).status_code == 403
    assert marker.encode() not in stored_bytes(app)


def test_notes_are_not_diary_entries(client: TestClient, world: World, alice: User) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    _note(client, world, made["id"], "A caseworker's words, not the victim's.")
    assert client.get("/v1/incidents", headers=alice.auth).json()["items"] == []


def test_a_note_is_chained_into_the_victims_diary(
    client: TestClient, world: World, alice: User
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    before = client.get("/v1/diary/integrity", headers=alice.auth).json()
    _note(client, world, made["id"], "Chained, so it cannot be slipped in or taken out.")
    after = client.get("/v1/diary/integrity", headers=alice.auth).json()
    assert after["ok"] is True
    assert after["length"] == before["length"] + 1
    assert after["head"] != before["head"]


def test_the_victim_keeps_notes_after_revoking(
    client: TestClient, world: World, alice: User, bob: User
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    note = _note(client, world, made["id"], "Before the grant ended.")
    client.delete(f"/v1/grants/{made['id']}", headers=alice.auth)
    assert client.get("/v1/caseworker-notes", headers=alice.auth).json()["items"] == [note]
    assert client.get("/v1/caseworker-notes", headers=bob.auth).json()["items"] == []


def test_the_caseworker_lists_the_notes_they_wrote_under_the_grant(
    client: TestClient, world: World, alice: User
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    first = _note(client, world, made["id"], "one")
    second = _note(client, world, made["id"], "two")
    listed = client.get(f"/v1/clients/{made['id']}/notes?limit=1", headers=world.caseworker.auth)
    page = listed.json()
    rest = client.get(
        f"/v1/clients/{made['id']}/notes?limit=1&cursor={page['next_cursor']}",
        headers=world.caseworker.auth,
    ).json()
    assert page["items"] + rest["items"] == [second, first]
    assert rest["next_cursor"] is None


def test_note_text_round_trips_byte_exact_or_is_refused(
    client: TestClient, world: World, alice: User
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    hostile = "NUL\x00 RTL\u202e <script>'; DROP TABLE x;--" + "\U0001f600" * 1000
    assert _note(client, world, made["id"], hostile)["text"] == hostile
    url = f"/v1/clients/{made['id']}/notes"
    for text in ("", "x" * 20_001):
        response = client.post(url, headers=world.caseworker.auth, json={"text": text})
        assert_problem(response, 422, "validation-error")
    lone_surrogate = b'{"text": "lone \\ud800 surrogate"}'
    headers = {**world.caseworker.auth, "Content-Type": "application/json"}
    assert_problem(
        client.post(url, content=lone_surrogate, headers=headers), 422, "validation-error"
    )
    assert len(client.get("/v1/caseworker-notes", headers=alice.auth).json()["items"]) == 1
