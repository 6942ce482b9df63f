"""Consent grants: found by link code only, scoped, expiring, revocable at once, per account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import User, stored_bytes
from tests.sharing.support import (
    World,
    assert_problem,
    grant,
    in_days,
    link_code,
    past,
    set_column,
)


def test_a_link_code_makes_a_grant_both_sides_can_see(
    client: TestClient, world: World, alice: User
) -> None:
    code = link_code(client, world.caseworker, label="A. referral 113")
    made = grant(client, alice, code, scope="diary", days=90)
    assert made == {
        "id": made["id"],
        "scope": "diary",
        "status": "active",
        "caseworker": {
            "display_name": "Sam Okafor",
            "organisation": {
                "id": world.org["id"],
                "name": "Safe Haven",
                "kind": "support_service",
            },
        },
        "created_at": made["created_at"],
        "expires_at": made["expires_at"],
        "revoked_at": None,
    }
    assert client.get("/v1/grants", headers=alice.auth).json() == {
        "items": [made],
        "next_cursor": None,
    }
    assert client.get(f"/v1/grants/{made['id']}", headers=alice.auth).json() == made
    clients = client.get("/v1/clients", headers=world.caseworker.auth)
    assert clients.json() == {
        "items": [
            {
                "id": made["id"],
                "scope": "diary",
                "label": "A. referral 113",
                "granted_at": made["created_at"],
                "expires_at": made["expires_at"],
            }
        ],
        "next_cursor": None,
    }
    # The client id names the grant, never the victim's account.
    me = client.get("/v1/me", headers=alice.auth).json()
    assert me["id"] not in clients.text
    assert "alice" not in clients.text


def test_link_codes_are_readable_and_forgiving_to_type(
    client: TestClient, world: World, alice: User
) -> None:
    response = client.post("/v1/caseworker/link-codes", headers=world.caseworker.auth, json={})
    body = response.json()
    assert body["label"] is None
    code = body["code"]
    assert len(code) == 19 and code.count("-") == 3
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23) < lifetime <= timedelta(hours=24)
    typed = " " + code.replace("-", "").lower() + " "
    assert grant(client, alice, typed)["status"] == "active"


def test_a_link_code_works_once(client: TestClient, world: World, alice: User, bob: User) -> None:
    code = link_code(client, world.caseworker)
    grant(client, alice, code)
    again = client.post(
        "/v1/grants",
        headers=bob.auth,
        json={"link_code": code, "scope": "summary", "expires_at": in_days(5)},
    )
    assert_problem(again, 422, "validation-error")
    assert again.json()["errors"][0]["loc"] == ["body", "link_code"]
    assert client.get("/v1/grants", headers=bob.auth).json()["items"] == []


def test_an_expired_link_code_is_refused(
    client: TestClient, world: World, alice: User, app: FastAPI
) -> None:
    made = client.post("/v1/caseworker/link-codes", headers=world.caseworker.auth, json={}).json()
    set_column(app, "caseworker_link_codes", made["id"], expires_at=past())
    response = client.post(
        "/v1/grants",
        headers=alice.auth,
        json={"link_code": made["code"], "scope": "summary", "expires_at": in_days(5)},
    )
    assert_problem(response, 422, "validation-error")


def test_grant_expiry_must_be_given_in_the_future_and_within_a_year(
    client: TestClient, world: World, alice: User
) -> None:
    code = link_code(client, world.caseworker)
    for expires_at in (in_days(-1), in_days(400), "2030-01-01T00:00:00", None):
        body = {"link_code": code, "scope": "diary", "expires_at": expires_at}
        if expires_at is None:
            del body["expires_at"]
        response = client.post("/v1/grants", headers=alice.auth, json=body)
        assert_problem(response, 422, "validation-error")
        assert response.json()["errors"][0]["loc"][:2] == ["body", "expires_at"]
    # None of the refusals spent the code.
    assert grant(client, alice, code)["status"] == "active"


def test_only_victims_make_grants(client: TestClient, world: World) -> None:
    code = link_code(client, world.caseworker)
    for staff in (world.caseworker_b, world.org_admin, world.admin):
        response = client.post(
            "/v1/grants",
            headers=staff.auth,
            json={"link_code": code, "scope": "diary", "expires_at": in_days(5)},
        )
        assert_problem(response, 403, "forbidden")
        assert_problem(client.get("/v1/grants", headers=staff.auth), 403, "forbidden")


def test_only_caseworkers_make_link_codes(client: TestClient, world: World, alice: User) -> None:
    for caller in (alice, world.org_admin, world.admin):
        response = client.post("/v1/caseworker/link-codes", headers=caller.auth, json={})
        assert_problem(response, 403, "forbidden")


def test_revoking_takes_effect_on_the_caseworkers_next_request(
    client: TestClient, world: World, alice: User
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    client_url = f"/v1/clients/{made['id']}"
    cw = world.caseworker
    assert client.get(client_url, headers=cw.auth).status_code == 200
    assert client.delete(f"/v1/grants/{made['id']}", headers=alice.auth).status_code == 204
    assert_problem(client.get(client_url, headers=cw.auth), 404, "not-found")
    note = client.post(f"{client_url}/notes", headers=cw.auth, json={"text": "hello"})
    assert_problem(note, 404, "not-found")
    assert_problem(client.get(f"{client_url}/notes", headers=cw.auth), 404, "not-found")
    assert client.get("/v1/clients", headers=cw.auth).json()["items"] == []
    after = client.get(f"/v1/grants/{made['id']}", headers=alice.auth).json()
    assert after["status"] == "revoked" and after["revoked_at"] is not None
    # Revoking again is harmless.
    assert client.delete(f"/v1/grants/{made['id']}", headers=alice.auth).status_code == 204


def test_an_expired_grant_is_gone_for_the_caseworker(
    client: TestClient, world: World, alice: User, app: FastAPI
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    set_column(app, "consent_grants", made["id"], expires_at=past())
    cw = world.caseworker
    assert_problem(client.get(f"/v1/clients/{made['id']}", headers=cw.auth), 404, "not-found")
    assert client.get("/v1/clients", headers=cw.auth).json()["items"] == []
    assert client.get(f"/v1/grants/{made['id']}", headers=alice.auth).json()["status"] == "expired"


def test_another_victims_grant_is_404_and_unchanged(
    client: TestClient, world: World, alice: User, bob: User
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    for method in ("GET", "DELETE"):
        response = client.request(method, f"/v1/grants/{made['id']}", headers=bob.auth)
        assert_problem(response, 404, "not-found")
    assert client.get(f"/v1/grants/{made['id']}", headers=alice.auth).json() == made
    assert client.get("/v1/grants", headers=bob.auth).json()["items"] == []
    unknown = client.delete(f"/v1/grants/{uuid.uuid4()}", headers=alice.auth)
    assert_problem(unknown, 404, "not-found")


def test_a_caseworker_cannot_reach_another_caseworkers_clients(
    client: TestClient, world: World, alice: User
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    other = world.caseworker_b
    assert client.get("/v1/clients", headers=other.auth).json()["items"] == []
    url = f"/v1/clients/{made['id']}"
    assert_problem(client.get(url, headers=other.auth), 404, "not-found")
    note = client.post(f"{url}/notes", headers=other.auth, json={"text": "x"})
    assert_problem(note, 404, "not-found")
    assert_problem(client.get(f"{url}/notes", headers=other.auth), 404, "not-found")
    # Organisation admins are not caseworkers: no client access either.
    assert_problem(client.get(url, headers=world.org_admin.auth), 403, "forbidden")


def test_a_scope_too_small_is_403_for_the_caseworker_who_holds_it(
    client: TestClient, world: World, alice: User
) -> None:
    made = grant(client, alice, link_code(client, world.caseworker), scope="summary")
    url = f"/v1/clients/{made['id']}"
    assert client.get(url, headers=world.caseworker.auth).status_code == 200
    note = client.post(f"{url}/notes", headers=world.caseworker.auth, json={"text": "x"})
    assert_problem(note, 403, "scope-insufficient")


def test_a_new_grant_to_the_same_caseworker_replaces_the_old(
    client: TestClient, world: World, alice: User
) -> None:
    first = grant(client, alice, link_code(client, world.caseworker), scope="summary")
    second = grant(client, alice, link_code(client, world.caseworker), scope="assist")
    listed = client.get("/v1/grants", headers=alice.auth).json()["items"]
    assert [(g["id"], g["status"]) for g in listed] == [
        (second["id"], "active"),
        (first["id"], "revoked"),
    ]
    clients = client.get("/v1/clients", headers=world.caseworker.auth).json()["items"]
    assert [(c["id"], c["scope"]) for c in clients] == [(second["id"], "assist")]


def test_grants_and_clients_page_with_cursors(
    client: TestClient, world: World, alice: User, bob: User
) -> None:
    made = [grant(client, victim, link_code(client, world.caseworker)) for victim in (alice, bob)]
    made.append(grant(client, alice, link_code(client, world.caseworker_b)))
    first = client.get("/v1/clients?limit=1", headers=world.caseworker.auth).json()
    rest = client.get(
        f"/v1/clients?limit=1&cursor={first['next_cursor']}", headers=world.caseworker.auth
    ).json()
    assert [c["id"] for c in first["items"] + rest["items"]] == [made[1]["id"], made[0]["id"]]
    assert rest["next_cursor"] is None
    page = client.get("/v1/grants?limit=1", headers=alice.auth).json()
    tail = client.get(f"/v1/grants?limit=1&cursor={page['next_cursor']}", headers=alice.auth)
    assert [g["id"] for g in page["items"] + tail.json()["items"]] == [made[2]["id"], made[0]["id"]]


def test_link_codes_and_labels_are_not_stored_readable(
    client: TestClient, world: World, app: FastAPI
) -> None:
    marker = f"LABEL-{uuid.uuid4().hex}"
    code = link_code(client, world.caseworker, label=marker)
    stored = stored_bytes(app)
    assert marker.encode() not in stored
    assert code.encode() not in stored
    assert code.replace("-", "").encode() not in stored


def test_a_repeated_create_returns_the_original_grant(
    client: TestClient, world: World, alice: User, bob: User
) -> None:
    code = link_code(client, world.caseworker)
    body = {"id": str(uuid.uuid4()), "link_code": code, "scope": "diary", "expires_at": in_days(9)}
    first = client.post("/v1/grants", headers=alice.auth, json=body)
    again = client.post("/v1/grants", headers=alice.auth, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.json()["id"] == body["id"]
    assert again.headers["location"] == f"/v1/grants/{body['id']}"
    assert len(client.get("/v1/grants", headers=alice.auth).json()["items"]) == 1
    changed = client.post("/v1/grants", headers=alice.auth, json={**body, "scope": "assist"})
    assert_problem(changed, 409, "conflict")
    # Ids are per account: in Bob's account the id is free (tests/diary/test_client_ids.py).
    bobs_code = link_code(client, world.caseworker_b)
    bobs = client.post("/v1/grants", headers=bob.auth, json={**body, "link_code": bobs_code})
    assert bobs.status_code == 201, bobs.text
    fresh = link_code(client, world.caseworker_b)
    taken = client.post("/v1/grants", headers=alice.auth, json={**body, "link_code": fresh})
    assert_problem(taken, 409, "conflict")
    # The refused attempt did not use the fresh code up.
    assert grant(client, alice, fresh)["status"] == "active"
