"""Offline-first: client ids make creates idempotent, and the sync feed replays every change."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import User
from tests.diary.support import (
    create_incident,
    create_subject,
    incident_body,
    integrity,
    subject_body,
    with_etag,
)


def test_the_same_create_twice_makes_one_incident(client: TestClient, alice: User) -> None:
    body = incident_body(id=str(uuid.uuid4()))
    first = client.post("/v1/incidents", json=body, headers=alice.auth)
    again = client.post("/v1/incidents", json=body, headers=alice.auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert first.json()["id"] == body["id"]
    assert len(client.get("/v1/incidents", headers=alice.auth).json()["items"]) == 1
    assert integrity(client, alice)["length"] == 1


def test_a_replay_in_another_offset_or_order_is_still_the_same_create(
    client: TestClient, alice: User
) -> None:
    incident_id = str(uuid.uuid4())
    body = incident_body(id=incident_id, behaviours=["loitering", "following"])
    assert client.post("/v1/incidents", json=body, headers=alice.auth).status_code == 201
    same = incident_body(
        id=incident_id,
        behaviours=["following", "loitering"],
        occurred_at="2024-03-01T21:05:00+01:00",
    )
    assert client.post("/v1/incidents", json=same, headers=alice.auth).status_code == 200


def test_the_same_id_with_other_content_is_409_and_changes_nothing(
    client: TestClient, alice: User
) -> None:
    incident_id = str(uuid.uuid4())
    created = client.post("/v1/incidents", json=incident_body(id=incident_id), headers=alice.auth)
    clash = client.post(
        "/v1/incidents", json=incident_body(id=incident_id, description="Other"), headers=alice.auth
    )
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert client.get(f"/v1/incidents/{incident_id}", headers=alice.auth).json() == created.json()
    assert integrity(client, alice)["length"] == 1


def test_another_accounts_id_makes_ones_own_incident_and_reveals_nothing(
    client: TestClient, alice: User, bob: User
) -> None:
    """Ids are per account: Bob's create with Alice's id is simply Bob's incident."""
    secret = "Alice's secret words"
    theirs = create_incident(client, alice, description=secret, id=str(uuid.uuid4()))
    mine = client.post("/v1/incidents", json=incident_body(id=theirs["id"]), headers=bob.auth)
    assert mine.status_code == 201, mine.text
    assert mine.json()["id"] == theirs["id"]
    assert secret not in mine.text
    assert client.get(f"/v1/incidents/{theirs['id']}", headers=alice.auth).json() == theirs
    assert client.get(f"/v1/incidents/{theirs['id']}", headers=bob.auth).json() == mine.json()
    assert integrity(client, bob)["length"] == 1
    assert integrity(client, alice)["length"] == 1


def test_a_replay_after_an_amendment_returns_the_current_version(
    client: TestClient, alice: User
) -> None:
    body = incident_body(id=str(uuid.uuid4()))
    first = client.post("/v1/incidents", json=body, headers=alice.auth).json()
    amended = client.patch(
        f"/v1/incidents/{first['id']}",
        json={"witnesses": "Sam"},
        headers=with_etag(alice, first["etag"]),
    ).json()
    replay = client.post("/v1/incidents", json=body, headers=alice.auth)
    assert replay.status_code == 200
    assert replay.json() == amended


def test_a_replay_after_withdrawal_is_410(client: TestClient, alice: User) -> None:
    body = incident_body(id=str(uuid.uuid4()))
    first = client.post("/v1/incidents", json=body, headers=alice.auth).json()
    client.delete(f"/v1/incidents/{first['id']}", headers=with_etag(alice, first["etag"]))
    assert client.post("/v1/incidents", json=body, headers=alice.auth).status_code == 410
    assert integrity(client, alice)["length"] == 2


def test_subject_creates_are_idempotent_too(client: TestClient, alice: User) -> None:
    body = subject_body(id=str(uuid.uuid4()))
    assert client.post("/v1/subjects", json=body, headers=alice.auth).status_code == 201
    assert client.post("/v1/subjects", json=body, headers=alice.auth).status_code == 200
    changed = {**body, "name": "Other"}
    assert client.post("/v1/subjects", json=changed, headers=alice.auth).status_code == 409
    assert len(client.get("/v1/subjects", headers=alice.auth).json()["items"]) == 1


def _sync(client: TestClient, user: User, cursor: str | None = None, **params: Any) -> Any:
    query = params | ({"cursor": cursor} if cursor else {})
    response = client.get("/v1/sync", params=query, headers=user.auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_sync_returns_every_change_in_order_and_resumes_from_a_cursor(
    client: TestClient, alice: User
) -> None:
    subject = create_subject(client, alice)
    entry = create_incident(client, alice, subject_ids=[subject["id"]])
    amended = client.patch(
        f"/v1/incidents/{entry['id']}",
        json={"witnesses": "Sam"},
        headers=with_etag(alice, entry["etag"]),
    ).json()
    page = _sync(client, alice)
    assert page["has_more"] is False
    assert [(c["seq"], c["kind"], c["object_id"], c["revision"]) for c in page["items"]] == [
        (1, "subject.created", subject["id"], 1),
        (2, "incident.created", entry["id"], 1),
        (3, "incident.amended", entry["id"], 2),
    ]
    assert page["items"][0]["subject"] == subject and page["items"][0]["incident"] is None
    assert page["items"][1]["incident"] == entry
    assert page["items"][2]["incident"] == amended
    assert [c["recorded_at"] for c in page["items"]] == [
        subject["recorded_at"],
        entry["updated_at"],
        amended["updated_at"],
    ]
    # Nothing new: the same cursor comes back, and later changes follow it.
    idle = _sync(client, alice, page["next_cursor"])
    assert (idle["items"], idle["next_cursor"], idle["has_more"]) == (
        [],
        page["next_cursor"],
        False,
    )
    client.delete(f"/v1/incidents/{entry['id']}", headers=with_etag(alice, amended["etag"]))
    later = _sync(client, alice, page["next_cursor"])
    assert [(c["seq"], c["kind"], c["incident"]) for c in later["items"]] == [
        (4, "incident.withdrawn", None)
    ]
    # Once withdrawn, the earlier changes no longer carry the erased content.
    assert [c["incident"] for c in _sync(client, alice)["items"][1:]] == [None, None, None]


def test_sync_pages_with_limit(client: TestClient, alice: User) -> None:
    for _ in range(5):
        create_incident(client, alice)
    seqs, cursor = [], None
    while True:
        page = _sync(client, alice, cursor, limit=2)
        seqs += [c["seq"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seqs == [1, 2, 3, 4, 5]


def test_sync_rejects_a_bad_cursor(client: TestClient, alice: User) -> None:
    for cursor in ("%%%", "WyJ4Il0", "Wy0xXQ"):  # garbage, ["x"], [-1]
        response = client.get("/v1/sync", params={"cursor": cursor}, headers=alice.auth)
        assert response.status_code == 422, cursor
        # Like every other 422, it says where: the cursor parameter.
        assert response.json()["errors"] == [
            {"loc": ["query", "cursor"], "msg": "not a cursor this list gave"}
        ]
    listed = client.get("/v1/incidents", params={"cursor": "%%%"}, headers=alice.auth)
    assert listed.status_code == 422 and listed.json()["errors"][0]["loc"] == ["query", "cursor"]
