"""Existence is never an oracle: client-chosen ids are per account (issue 12; SECURITY.md,
"Client-chosen ids"; TESTING.md, Authorization, "Existence is never an oracle").

For every create that takes a client-chosen id, Bob creating with an id that exists in
Alice's account gets exactly the answer he gets for an id nobody used: the same status, the
same headers, the same body but for what differs between any two new records (the id he chose,
the request id, timestamps, an ETag naming a fresh row). Both records then exist side by side:
Alice reads hers unchanged, Bob reads his own, and a repeat of Bob's create is his own replay.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import User, new_user
from tests.diary.support import incident_body, subject_body
from tests.evidence.support import jpeg_with_exif, multipart
from tests.exports.jobs_support import hold_jobs
from tests.sharing.support import World, grant, in_days, link_code
from tests.sharing.support import world as world  # the fixture

# What differs between any two new records, whoever else has used the id.
_PER_RECORD = {"id", "etag", "request_id"}
_PER_RESPONSE_HEADERS = {"content-length", "etag", "x-request-id", "date"}


@dataclass
class Kind:
    """A create that takes a client-chosen id, and how to read the record back."""

    create: Callable[[TestClient, User, str, str], Any]
    read: str  # the owner's GET path, with {id}


def _incident(client: TestClient, user: User, id_: str, text: str) -> Any:
    body = incident_body(id=id_, description=text)
    return client.post("/v1/incidents", json=body, headers=user.auth)


def _subject(client: TestClient, user: User, id_: str, text: str) -> Any:
    return client.post("/v1/subjects", json=subject_body(text, id=id_), headers=user.auth)


def _evidence(client: TestClient, user: User, id_: str, text: str) -> Any:
    return multipart(client, user.auth, jpeg_with_exif() + text.encode(), fields={"id": id_})


def _export(client: TestClient, user: User, id_: str, text: str) -> Any:
    body = {"id": id_, "format": "json" if "other" in text else "pdf"}
    return client.post("/v1/exports", json=body, headers=user.auth)


KINDS = {
    "incident": Kind(_incident, "/v1/incidents/{id}"),
    "subject": Kind(_subject, "/v1/subjects/{id}"),
    "evidence": Kind(_evidence, "/v1/evidence/{id}"),
    "export": Kind(_export, "/v1/exports/{id}"),
}


def _outcome(response: Any, chosen: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Everything of an answer but what differs between any two new records."""
    headers = {
        name: value.replace(chosen, "{id}")
        for name, value in response.headers.items()
        if name not in _PER_RESPONSE_HEADERS
    }
    body = {
        name: value
        for name, value in response.json().items()
        if name not in _PER_RECORD and not name.endswith("_at")
    }
    assert chosen not in str(body)
    return response.status_code, headers, body


def _read(client: TestClient, user: User, path: str) -> dict[str, Any]:
    response = client.get(path, headers=user.auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("kind", list(KINDS))
def test_existence_is_never_an_oracle_another_accounts_id_answers_like_a_fresh_one(
    client: TestClient, alice: User, bob: User, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_jobs(monkeypatch)  # exports stay queued, so both of Bob's answers and reads are alike
    spec = KINDS[kind]
    secret = "Alice's secret words"
    alices_id, fresh_id = str(uuid.uuid4()), str(uuid.uuid4())
    alices = spec.create(client, alice, alices_id, secret)
    assert alices.status_code in (201, 202), alices.text
    alice_before = _read(client, alice, spec.read.format(id=alices_id))

    fresh = spec.create(client, bob, fresh_id, "Bob's words")
    taken = spec.create(client, bob, alices_id, "Bob's words")

    assert fresh.status_code in (201, 202), fresh.text
    assert _outcome(taken, alices_id) == _outcome(fresh, fresh_id)
    assert secret not in taken.text
    assert _read(client, alice, spec.read.format(id=alices_id)) == alice_before
    bobs = _read(client, bob, spec.read.format(id=alices_id))
    assert bobs == {**taken.json(), **{k: v for k, v in bobs.items() if k.endswith("_at")}}
    assert secret not in str(bobs)


@pytest.mark.parametrize("kind", list(KINDS))
def test_existence_is_never_an_oracle_reusing_ones_own_id_still_replays_or_conflicts(
    client: TestClient, alice: User, bob: User, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_jobs(monkeypatch)
    spec = KINDS[kind]
    shared = str(uuid.uuid4())
    assert spec.create(client, alice, shared, "Alice's words").status_code in (201, 202)
    first = spec.create(client, bob, shared, "Bob's words")
    again = spec.create(client, bob, shared, "Bob's words")
    other = spec.create(client, bob, shared, "Bob's other words")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] == shared
    assert other.status_code == 409, other.text
    assert other.headers["content-type"].startswith("application/problem+json")


def _grant_with_id(client: TestClient, user: User, code: str, id_: str, days: float) -> Any:
    body = {"id": id_, "link_code": code, "scope": "assist", "expires_at": in_days(days)}
    return client.post("/v1/grants", headers=user.auth, json=body)


def test_existence_is_never_an_oracle_a_grant_id_in_another_account_answers_like_a_fresh_one(
    client: TestClient, world: World, alice: User, bob: User
) -> None:
    """Alice and Bob both grant the same caseworker; Bob picks Alice's grant id. The
    caseworker then has two clients, each reaching only its own diary."""
    caseworker = world.caseworker
    alice_incident = _incident(client, alice, str(uuid.uuid4()), "Alice's secret words").json()
    alices_id, fresh_id = str(uuid.uuid4()), str(uuid.uuid4())
    alices = _grant_with_id(client, alice, link_code(client, caseworker), alices_id, 30)
    assert alices.status_code == 201, alices.text
    alice_before = _read(client, alice, f"/v1/grants/{alices_id}")

    # Bob's fresh grant goes to the other caseworker, so his second one supersedes nothing.
    fresh = _grant_with_id(client, bob, link_code(client, world.caseworker_b), fresh_id, 30)
    taken = _grant_with_id(client, bob, link_code(client, caseworker), alices_id, 30)

    assert fresh.status_code == 201, fresh.text
    fresh_outcome = _outcome(fresh, fresh_id)
    fresh_outcome[2]["caseworker"] = None  # the other caseworker's name
    taken_outcome = _outcome(taken, alices_id)
    taken_outcome[2]["caseworker"] = None
    assert taken_outcome == fresh_outcome
    assert _read(client, alice, f"/v1/grants/{alices_id}") == alice_before
    assert _read(client, bob, f"/v1/grants/{alices_id}")["id"] == alices_id

    clients = _read(client, caseworker.user, "/v1/clients")["items"]
    assert len(clients) == 2 and alices_id in {c["id"] for c in clients}
    (bobs_client,) = [c["id"] for c in clients if c["id"] != alices_id]
    alice_seen = _read(client, caseworker.user, f"/v1/clients/{alices_id}/incidents")["items"]
    bob_seen = _read(client, caseworker.user, f"/v1/clients/{bobs_client}/incidents")["items"]
    assert [i["id"] for i in alice_seen] == [alice_incident["id"]]
    assert bob_seen == []


def test_existence_is_never_an_oracle_a_grant_id_reused_by_its_owner_replays_or_conflicts(
    client: TestClient, world: World, alice: User
) -> None:
    code, grant_id = link_code(client, world.caseworker), str(uuid.uuid4())
    body = {"id": grant_id, "link_code": code, "scope": "assist", "expires_at": in_days(30)}
    assert client.post("/v1/grants", headers=alice.auth, json=body).status_code == 201
    assert client.post("/v1/grants", headers=alice.auth, json=body).status_code == 200
    other = _grant_with_id(client, alice, link_code(client, world.caseworker), grant_id, 30)
    assert other.status_code == 409, other.text


def test_a_caseworkers_notes_and_drafts_outlive_their_account_under_per_account_grant_ids(
    client: TestClient, world: World, alice: User
) -> None:
    """Grant keys are (account_id, id): erasing the caseworker unlinks what they wrote."""
    granted = grant(client, alice, link_code(client, world.caseworker))
    path = f"/v1/clients/{granted['id']}"
    note = client.post(f"{path}/notes", headers=world.caseworker.auth, json={"text": "Called."})
    assert note.status_code == 201, note.text
    drafted = client.post(f"{path}/incidents", headers=world.caseworker.auth, json=incident_body())
    assert drafted.status_code == 201, drafted.text
    erase = client.request("DELETE", "/v1/me", headers=world.caseworker.auth, json=_reauth(world))
    assert erase.status_code == 204, erase.text
    notes = _read(client, alice, "/v1/caseworker-notes")["items"]
    assert {n["client_id"] for n in notes} == {None}
    assert len(notes) == 2  # the note, and the one announcing the draft
    assert _read(client, alice, f"/v1/incidents/{drafted.json()['id']}")["id"]
    assert new_user(client)  # the service still works for everyone else


def _reauth(world: World) -> dict[str, str]:
    assert world.caseworker.totp is not None
    # The next step: enrolment used the current one.
    code = world.caseworker.totp.at(time.time() + 30)
    return {"password": world.caseworker.user.password, "totp_code": code}
