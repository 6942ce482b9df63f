"""Organisations and staff: admin-only creation, invitations that work once, 2FA for staff."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, User, login, stored_bytes
from tests.sharing.support import (
    World,
    accept,
    assert_problem,
    create_org,
    enable_totp,
    invite,
    join,
    make_admin,
    past,
    set_column,
)


def test_only_service_admins_create_organisations(
    client: TestClient, world: World, alice: User
) -> None:
    body = {"name": "North Police", "kind": "police_force"}
    for caller in (alice, world.org_admin, world.caseworker):
        response = client.post("/v1/organisations", headers=caller.auth, json=body)
        assert_problem(response, 403, "forbidden")
    created = client.post("/v1/organisations", headers=world.admin.auth, json=body)
    assert created.status_code == 201
    org = created.json()
    assert org == {
        "id": org["id"],
        "name": "North Police",
        "kind": "police_force",
        "created_at": org["created_at"],
    }
    uuid.UUID(org["id"])
    datetime.fromisoformat(org["created_at"])


def test_organisation_names_are_unique(client: TestClient, world: World) -> None:
    body = {"name": "Safe Haven", "kind": "support_service"}
    response = client.post("/v1/organisations", headers=world.admin.auth, json=body)
    assert_problem(response, 409, "conflict")


def test_admins_list_every_organisation_staff_only_their_own(
    client: TestClient, world: World, alice: User
) -> None:
    other = create_org(client, world.admin, "Other Service")
    everything = client.get("/v1/organisations", headers=world.admin.auth).json()
    assert [o["id"] for o in everything["items"]] == [other["id"], world.org["id"]]
    for staff in (world.org_admin, world.caseworker):
        own = client.get("/v1/organisations", headers=staff.auth).json()
        assert own == {"items": [world.org], "next_cursor": None}
    assert_problem(client.get("/v1/organisations", headers=alice.auth), 403, "forbidden")


def test_organisation_list_pages_with_a_cursor(client: TestClient, world: World) -> None:
    ids = [create_org(client, world.admin, f"Service {n}")["id"] for n in range(3)]
    first = client.get("/v1/organisations?limit=2", headers=world.admin.auth).json()
    second = client.get(
        f"/v1/organisations?limit=2&cursor={first['next_cursor']}", headers=world.admin.auth
    ).json()
    assert [o["id"] for o in first["items"] + second["items"]] == [*reversed(ids), world.org["id"]]
    assert second["next_cursor"] is None


def test_an_invitation_creates_the_account_with_its_role_and_organisation(
    client: TestClient, world: World
) -> None:
    code = invite(client, world.org_admin, world.org["id"], "caseworker")
    assert code.startswith("chi_") and len(code) > 40
    response = accept(client, code, "sam-at-haven")
    assert response.status_code == 201
    assert response.json()["status"] == "created"
    assert re.fullmatch(r"sam-at-haven-[0-9]{4}", response.json()["username"])
    user = login(client, response.json()["username"])
    me = client.get("/v1/me", headers=user.auth).json()
    assert me["role"] == "caseworker"
    assert me["totp_enabled"] is False
    enable_totp(client, user)
    own = client.get("/v1/organisations", headers=user.auth).json()
    assert own["items"] == [world.org]


def test_service_admins_invite_only_organisation_admins(client: TestClient, world: World) -> None:
    url = f"/v1/organisations/{world.org['id']}/invitations"
    refused = client.post(url, headers=world.admin.auth, json={"role": "caseworker"})
    assert_problem(refused, 403, "forbidden")
    assert client.post(url, headers=world.admin.auth, json={"role": "org_admin"}).status_code == 201


def test_organisation_admins_invite_only_to_their_own_organisation(
    client: TestClient, world: World
) -> None:
    other = create_org(client, world.admin, "Other Service")
    for org_id in (other["id"], str(uuid.uuid4())):
        response = client.post(
            f"/v1/organisations/{org_id}/invitations",
            headers=world.org_admin.auth,
            json={"role": "caseworker"},
        )
        assert_problem(response, 404, "not-found")
    unknown = client.post(
        f"/v1/organisations/{uuid.uuid4()}/invitations",
        headers=world.admin.auth,
        json={"role": "org_admin"},
    )
    assert_problem(unknown, 404, "not-found")


def test_caseworkers_and_victims_cannot_invite(
    client: TestClient, world: World, alice: User
) -> None:
    url = f"/v1/organisations/{world.org['id']}/invitations"
    for caller in (alice, world.caseworker):
        response = client.post(url, headers=caller.auth, json={"role": "caseworker"})
        assert_problem(response, 403, "forbidden")


def test_an_invitation_works_once(client: TestClient, world: World) -> None:
    code = invite(client, world.org_admin, world.org["id"], "caseworker")
    assert accept(client, code, "first-taker").status_code == 201
    replay = accept(client, code, "second-taker")
    assert_problem(replay, 422, "validation-error")
    assert replay.json()["errors"] == [{"loc": ["body", "code"], "msg": replay.json()["detail"]}]
    for suffix in ("", "-0000"):
        failed = client.post(
            "/v1/auth/token", json={"username": "second-taker" + suffix, "password": PASSWORD}
        )
        assert failed.status_code == 401


def test_an_expired_invitation_is_refused(client: TestClient, world: World, app: FastAPI) -> None:
    response = client.post(
        f"/v1/organisations/{world.org['id']}/invitations",
        headers=world.org_admin.auth,
        json={"role": "caseworker", "expires_in_days": 1},
    )
    invitation = response.json()
    lifetime = datetime.fromisoformat(invitation["expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23) < lifetime <= timedelta(days=1)
    assert accept(client, invitation["code"], "", "x").status_code == 422  # not spent by a 422
    set_column(app, "organisation_invitations", invitation["id"], expires_at=past())
    assert_problem(accept(client, invitation["code"], "late-comer"), 422, "validation-error")


def test_unknown_and_malformed_invitation_codes_are_refused_alike(
    client: TestClient, world: World
) -> None:
    for code in ("chi_" + "A" * 43, "nonsense", " "):
        response = accept(client, code, "guesser-name")
        assert_problem(response, 422, "validation-error")


def test_a_used_name_gets_the_same_answer_and_its_own_new_handle(
    client: TestClient, world: World, alice: User
) -> None:
    free = accept(
        client, invite(client, world.org_admin, world.org["id"], "caseworker"), "newcomer"
    )
    code = invite(client, world.org_admin, world.org["id"], "caseworker")
    # Alice's full handle as a chosen name: the invitee gets a handle of its own.
    taken = accept(client, code, alice.username)
    assert taken.status_code == free.status_code == 201
    assert taken.json()["username"].startswith(alice.username + "-")
    assert taken.json()["detail"] == free.json()["detail"]
    # Alice's account is untouched: still a victim, and in no organisation.
    assert client.get("/v1/me", headers=alice.auth).json()["role"] == "victim"
    # The code is spent.
    assert_problem(accept(client, code, "another-name"), 422, "validation-error")


def test_a_refused_password_leaves_the_invitation_usable(client: TestClient, world: World) -> None:
    code = invite(client, world.org_admin, world.org["id"], "caseworker")
    weak = client.post(
        "/v1/invitations/accept",
        json={"code": code, "username": "careful-one", "password": "short", "display_name": "C"},
    )
    assert_problem(weak, 422, "validation-error")
    assert accept(client, code, "careful-one").status_code == 201


def test_staff_without_two_factor_get_totp_required(client: TestClient, app: FastAPI) -> None:
    admin = make_admin(app, client, totp=False)
    create = client.post(
        "/v1/organisations", headers=admin.auth, json={"name": "X", "kind": "support_service"}
    )
    assert_problem(create, 403, "totp-required")
    enable_totp(client, admin.user)
    org = create_org(client, admin)
    org_admin = join(client, admin, org["id"], "org_admin", totp=False)
    caseworker_invite = client.post(
        f"/v1/organisations/{org['id']}/invitations",
        headers=org_admin.auth,
        json={"role": "caseworker"},
    )
    assert_problem(caseworker_invite, 403, "totp-required")
    enable_totp(client, org_admin.user)
    caseworker = join(client, org_admin, org["id"], "caseworker", totp=False)
    for method, path in [
        ("GET", "/v1/organisations"),
        ("POST", "/v1/caseworker/link-codes"),
        ("GET", "/v1/clients"),
        ("GET", f"/v1/clients/{uuid.uuid4()}"),
        ("POST", f"/v1/clients/{uuid.uuid4()}/notes"),
    ]:
        body = {"text": "hello"} if path.endswith("/notes") else {}
        response = client.request(method, path, headers=caseworker.auth, json=body)
        assert_problem(response, 403, "totp-required")
    # Enrolment itself stays open to them.
    enable_totp(client, caseworker.user)
    assert client.get("/v1/clients", headers=caseworker.auth).status_code == 200


def test_turning_two_factor_off_locks_staff_routes_again(client: TestClient, world: World) -> None:
    cw = world.caseworker
    assert cw.totp is not None
    off = client.post(
        "/v1/me/totp/disable",
        headers=cw.auth,
        json={"password": PASSWORD, "totp_code": cw.totp.at(datetime.now().timestamp() + 30)},
    )
    assert off.status_code == 204, off.text
    assert_problem(client.get("/v1/clients", headers=cw.auth), 403, "totp-required")


def test_invitation_codes_are_stored_only_as_hmacs(
    client: TestClient, world: World, app: FastAPI
) -> None:
    code = invite(client, world.org_admin, world.org["id"], "caseworker")
    assert code.encode() not in stored_bytes(app)
