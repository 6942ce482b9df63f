"""Officer shares, the victim's side: create (token once, stored hashed), list, revoke, accesses."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import User, stored_bytes
from tests.sharing.shares_support import (
    PASSCODE,
    add_subject,
    create_share,
    enter_passcode,
    share_body,
    small_diary,
    token_of,
)
from tests.sharing.support import World, assert_problem, in_days


def test_a_share_is_created_with_its_token_shown_once(client: TestClient, alice: User) -> None:
    made = create_share(client, alice, passcode=PASSCODE)
    token = token_of(made)
    assert len(token) >= len("chs_") + 43  # 256 bits of urlsafe base64
    shown = {key: value for key, value in made.items() if key not in ("token", "url")}
    assert shown == {
        "id": made["id"],
        "recipient": {
            "name": "PC Jane Smith",
            "force": "Kent Police",
            "crime_reference": "46/12345/24",
        },
        "scope": {"from": None, "to": None, "subject_ids": [], "include_evidence": False},
        "has_passcode": True,
        "status": "active",
        "created_at": made["created_at"],
        "expires_at": made["expires_at"],
        "revoked_at": None,
    }
    listed = client.get("/v1/shares", headers=alice.auth).json()
    assert listed == {"items": [shown], "next_cursor": None}
    assert client.get(f"/v1/shares/{made['id']}", headers=alice.auth).json() == shown
    assert token not in str(listed)


def test_token_passcode_and_recipient_are_never_stored_in_clear(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    made = create_share(client, alice, passcode=PASSCODE, recipient_name="DC Plantedname Marker")
    stored = stored_bytes(app)
    token = token_of(made)
    for secret in (token, PASSCODE, "Plantedname", hashlib.sha256(token.encode()).hexdigest()):
        assert secret.encode() not in stored, secret


def test_invalid_shares_are_refused(client: TestClient, alice: User, bob: User) -> None:
    bobs_subject = add_subject(client, bob)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    cases = [
        ({"passcode": "short"}, ["body", "passcode"]),
        ({"expires_at": past}, ["body", "expires_at"]),
        ({"expires_at": in_days(400)}, ["body", "expires_at"]),
        ({"scope": {"subject_ids": [bobs_subject]}}, ["body", "scope", "subject_ids", 0]),
        ({"scope": {"from": "2024-03-02T00:00:00Z", "to": "2024-03-01T00:00:00Z"}}, None),
        ({"recipient_name": ""}, ["body", "recipient_name"]),
        ({"token_hash": "00"}, ["body", "token_hash"]),
    ]
    for overrides, loc in cases:
        response = client.post("/v1/shares", headers=alice.auth, json=share_body(**overrides))
        assert_problem(response, 422, "validation-error")
        if loc is not None:
            assert loc in [error["loc"] for error in response.json()["errors"]], overrides
    assert client.get("/v1/shares", headers=alice.auth).json()["items"] == []


def test_another_account_cannot_see_or_revoke_a_share(
    client: TestClient, alice: User, bob: User
) -> None:
    made = create_share(client, alice)
    for method, path in (
        ("GET", f"/v1/shares/{made['id']}"),
        ("DELETE", f"/v1/shares/{made['id']}"),
        ("GET", f"/v1/shares/{made['id']}/accesses"),
    ):
        assert_problem(client.request(method, path, headers=bob.auth), 404, "not-found")
    assert client.get("/v1/shares", headers=bob.auth).json()["items"] == []
    assert client.get(f"/s/{token_of(made)}").status_code == 200


def test_staff_cannot_make_shares(client: TestClient, world: World) -> None:
    response = client.post("/v1/shares", headers=world.caseworker.auth, json=share_body())
    assert_problem(response, 403, "forbidden")


def test_revoking_stops_the_link_at_once_and_is_audited(client: TestClient, alice: User) -> None:
    made = create_share(client, alice)
    token = token_of(made)
    assert client.get(f"/s/{token}").status_code == 200
    assert client.delete(f"/v1/shares/{made['id']}", headers=alice.auth).status_code == 204
    assert client.delete(f"/v1/shares/{made['id']}", headers=alice.auth).status_code == 204
    gone = client.get(f"/s/{token}")
    assert gone.status_code == 410
    assert "This link is not available" in gone.text
    assert client.get(f"/s/{token}/chronology.pdf").status_code == 410
    share = client.get(f"/v1/shares/{made['id']}", headers=alice.auth).json()
    assert share["status"] == "revoked" and share["revoked_at"] is not None
    actions = [e["action"] for e in client.get("/v1/audit", headers=alice.auth).json()["items"]]
    assert actions.count("share.revoked") == 1
    assert actions.count("share.created") == 1


def test_every_access_is_listed_with_when_where_and_what(client: TestClient, alice: User) -> None:
    small_diary(client, alice, "Accessed")
    made = create_share(client, alice, passcode=PASSCODE)
    token = token_of(made)
    agent = {"User-Agent": "OfficerBrowser/1.0"}
    assert enter_passcode(client, token, "wrong passcode").status_code == 401
    assert (
        client.post(
            f"/s/{token}", data={"passcode": PASSCODE}, headers=agent, follow_redirects=False
        ).status_code
        == 303
    )
    assert client.get(f"/s/{token}", headers=agent).status_code == 200
    assert client.get(f"/s/{token}/chronology.pdf", headers=agent).status_code == 200
    assert client.get(f"/s/{token}/bundle.zip", headers=agent).status_code == 200
    accesses = client.get(f"/v1/shares/{made['id']}/accesses", headers=alice.auth).json()
    seen = [(a["action"], a["what"]) for a in accesses["items"]]
    assert seen == [
        ("share.accessed", "bundle.zip"),
        ("share.accessed", "chronology.pdf"),
        ("share.accessed", "summary"),
        ("share.passcode_failed", "passcode"),
    ]
    for access in accesses["items"]:
        assert access["address"] == "testclient"
    assert accesses["items"][0]["user_agent"] == "OfficerBrowser/1.0"
    trail = client.get("/v1/audit?action=share.accessed", headers=alice.auth).json()["items"]
    assert [e["details"]["what"] for e in trail] == ["bundle.zip", "chronology.pdf", "summary"]
    for event in trail:
        assert event["actor"] == {
            "kind": "share_link",
            "id": made["id"],
            "name": "PC Jane Smith, Kent Police",
        }
        assert event["object"] == {"type": "share", "id": made["id"]}


def test_accesses_page_newest_first(client: TestClient, alice: User) -> None:
    made = create_share(client, alice)
    for _ in range(3):
        assert client.get(f"/s/{token_of(made)}").status_code == 200
    path = f"/v1/shares/{made['id']}/accesses?limit=2"
    first = client.get(path, headers=alice.auth).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(f"{path}&cursor={first['next_cursor']}", headers=alice.auth).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [a["id"] for a in first["items"] + rest["items"]]
    assert len(set(ids)) == 3
