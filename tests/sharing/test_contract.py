"""The sharing API's contract: who may call what, and bad input answered with problem+json."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.main import ROUTERS
from tests.conftest import User
from tests.diary.support import incident_body
from tests.sharing.support import World, assert_problem, grant, in_days, link_code

SHARING_PREFIXES = (
    "/v1/organisations",
    "/v1/invitations",
    "/v1/caseworker",
    "/v1/grants",
    "/v1/clients",
    "/v1/audit",
)
ROLES = ("anonymous", "victim", "caseworker", "other_caseworker", "org_admin", "admin")
P = "/v1/clients/{client_id}"

# (method, path template) -> expected status per role, in ROLES order.
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/v1/organisations"): (401, 403, 403, 403, 403, 201),
    ("GET", "/v1/organisations"): (401, 403, 200, 200, 200, 200),
    ("POST", "/v1/organisations/{organisation_id}/invitations"): (401, 403, 403, 403, 201, 201),
    ("POST", "/v1/invitations/accept"): (422, 422, 422, 422, 422, 422),
    ("POST", "/v1/caseworker/link-codes"): (401, 403, 201, 201, 403, 403),
    ("POST", "/v1/grants"): (401, 422, 403, 403, 403, 403),
    ("GET", "/v1/grants"): (401, 200, 403, 403, 403, 403),
    ("GET", "/v1/grants/{grant_id}"): (401, 200, 403, 403, 403, 403),
    ("DELETE", "/v1/grants/{grant_id}"): (401, 204, 403, 403, 403, 403),
    ("GET", "/v1/caseworker-notes"): (401, 200, 403, 403, 403, 403),
    ("GET", "/v1/clients"): (401, 403, 200, 200, 403, 403),
    ("GET", "/v1/clients/{client_id}"): (401, 403, 200, 404, 403, 403),
    ("POST", "/v1/clients/{client_id}/notes"): (401, 403, 201, 404, 403, 403),
    ("GET", "/v1/clients/{client_id}/notes"): (401, 403, 200, 404, 403, 403),
    ("GET", "/v1/clients/{client_id}/chronology"): (401, 403, 200, 404, 403, 403),
    ("GET", "/v1/clients/{client_id}/incidents"): (401, 403, 200, 404, 403, 403),
    ("POST", "/v1/clients/{client_id}/incidents"): (401, 403, 201, 404, 403, 403),
    ("GET", "/v1/clients/{client_id}/evidence"): (401, 403, 200, 404, 403, 403),
    # An incident or evidence id the client does not have: 404 alike for everyone who gets
    # that far.
    ("GET", "/v1/clients/{client_id}/incidents/{incident_id}"): (401, 403, 404, 404, 403, 403),
    ("GET", "/v1/clients/{client_id}/evidence/{evidence_id}"): (401, 403, 404, 404, 403, 403),
    ("GET", P + "/evidence/{evidence_id}/content"): (401, 403, 404, 404, 403, 403),
    ("GET", P + "/incidents/{incident_id}/revisions"): (401, 403, 404, 404, 403, 403),
    ("GET", P + "/risk-assessments/suggestions"): (401, 403, 200, 404, 403, 403),
    ("POST", P + "/risk-assessments"): (401, 403, 201, 404, 403, 403),
    # An export prepared for the victim (assist), and one she does not have.
    ("POST", P + "/exports"): (401, 403, 202, 404, 403, 403),
    ("GET", P + "/exports/{export_id}"): (401, 403, 404, 404, 403, 403),
    ("GET", "/v1/audit"): (401, 200, 403, 403, 403, 403),
}

BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/organisations"): {"name": "N", "kind": "police_force"},
    ("POST", "/v1/organisations/{organisation_id}/invitations"): {"role": "org_admin"},
    ("POST", "/v1/invitations/accept"): {
        "code": "chi_unknown",
        "username": "someone-new",
        "password": "correct horse battery staple",
        "display_name": "Someone",
    },
    ("POST", "/v1/caseworker/link-codes"): {},
    ("POST", "/v1/grants"): {"link_code": "AAAA-AAAA", "scope": "diary", "expires_at": "X"},
    ("POST", "/v1/clients/{client_id}/notes"): {"text": "hello"},
    ("POST", "/v1/clients/{client_id}/incidents"): incident_body(),
    ("POST", P + "/risk-assessments"): {"answers": {"q1": {"answer": "yes"}}},
    ("POST", P + "/exports"): {"format": "json"},
}


def sharing_operations() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith(SHARING_PREFIXES)
        for method in route.methods
    }


def test_every_sharing_route_is_in_the_matrix() -> None:
    assert sharing_operations() == set(MATRIX)


@pytest.mark.parametrize("operation", sorted(MATRIX), ids=" ".join)
def test_authorization_matrix(
    client: TestClient, world: World, alice: User, operation: tuple[str, str]
) -> None:
    method, template = operation
    callers: dict[str, dict[str, str]] = {
        "anonymous": {},
        "victim": alice.auth,
        "caseworker": world.caseworker.auth,
        "other_caseworker": world.caseworker_b.auth,
        "org_admin": world.org_admin.auth,
        "admin": world.admin.auth,
    }
    for role, expected in zip(ROLES, MATRIX[operation], strict=True):
        grant_id = ""
        if "_id}" in template.replace("{organisation_id}", ""):  # a fresh grant for each caller
            grant_id = grant(client, alice, link_code(client, world.caseworker))["id"]
        path = template.format(
            organisation_id=world.org["id"],
            grant_id=grant_id,
            client_id=grant_id,
            incident_id=uuid.uuid4(),
            evidence_id=uuid.uuid4(),
            export_id=uuid.uuid4(),
        )
        body = dict(BODIES.get(operation, {}))
        if operation == ("POST", "/v1/organisations"):
            body["name"] = f"Org {uuid.uuid4().hex[:6]}"
        if operation == ("POST", "/v1/grants"):
            body["expires_at"] = in_days(3)
        kwargs: dict[str, Any] = {"json": body} if method == "POST" else {}
        response = client.request(method, path, headers=callers[role], **kwargs)
        assert response.status_code == expected, (role, response.text)
        if expected >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")


ACCEPT_BODY = BODIES[("POST", "/v1/invitations/accept")]
# (path template, valid body, the extra field a client might try to set)
EXTRA_FIELD_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("/v1/organisations", {"name": "Extra", "kind": "police_force"}, "id"),
    ("/v1/organisations/{organisation_id}/invitations", {"role": "caseworker"}, "organisation_id"),
    ("/v1/invitations/accept", ACCEPT_BODY, "role"),
    ("/v1/caseworker/link-codes", {}, "caseworker_id"),
    ("/v1/grants", {"link_code": "x", "scope": "diary"}, "account_id"),
    ("/v1/clients/{client_id}/notes", {"text": "hi"}, "account_id"),
    ("/v1/clients/{client_id}/risk-assessments", {"answers": {}}, "answered_by"),
]


def test_extra_fields_are_refused_everywhere(client: TestClient, world: World, alice: User) -> None:
    made = grant(client, alice, link_code(client, world.caseworker))
    callers = {
        "/v1/organisations": world.admin.auth,
        "/v1/organisations/{organisation_id}/invitations": world.org_admin.auth,
        "/v1/caseworker/link-codes": world.caseworker.auth,
        "/v1/clients/{client_id}/notes": world.caseworker.auth,
        "/v1/clients/{client_id}/risk-assessments": world.caseworker.auth,
    }
    for template, valid, extra in EXTRA_FIELD_CASES:
        path = template.format(organisation_id=world.org["id"], client_id=made["id"])
        body = {**valid, extra: str(uuid.uuid4())}
        if template == "/v1/grants":
            body["expires_at"] = in_days(3)
        response = client.post(path, headers=callers.get(template, alice.auth), json=body)
        assert_problem(response, 422, "validation-error")
        assert ["body", extra] in [e["loc"] for e in response.json()["errors"]], template
    assert client.get("/v1/organisations", headers=world.admin.auth).json()["items"] == [world.org]
    assert client.get("/v1/caseworker-notes", headers=alice.auth).json()["items"] == []
    assert len(client.get("/v1/grants", headers=alice.auth).json()["items"]) == 1


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("victim", "/v1/grants/not-a-uuid"),
        ("victim", "/v1/grants?limit=0"),
        ("victim", "/v1/grants?limit=1000000"),
        ("victim", "/v1/grants?cursor=!!!"),
        ("victim", "/v1/caseworker-notes?limit=-1"),
        ("victim", "/v1/audit?action=DROP%20TABLE"),
        ("victim", "/v1/audit?cursor=eyJ4IjoxfQ"),
        ("caseworker", "/v1/clients/not-a-uuid"),
        ("caseworker", "/v1/clients?limit=201"),
        ("caseworker", "/v1/clients/not-a-uuid/notes"),
        ("admin", "/v1/organisations?cursor=bm90LWpzb24"),
    ],
)
def test_bad_query_and_path_values_are_422(
    client: TestClient, world: World, alice: User, who: str, path: str
) -> None:
    headers = {
        "victim": alice.auth,
        "caseworker": world.caseworker.auth,
        "admin": world.admin.auth,
    }[who]
    assert_problem(client.get(path, headers=headers), 422, "validation-error")


def test_bad_bodies_are_422(client: TestClient, world: World, alice: User) -> None:
    cases = [
        (world.admin.auth, "/v1/organisations", {"name": "X", "kind": "charity"}),
        (world.admin.auth, "/v1/organisations", {"name": " \u200b ", "kind": "police_force"}),
        (world.admin.auth, "/v1/organisations", {"name": "x" * 201, "kind": "police_force"}),
        (
            world.org_admin.auth,
            f"/v1/organisations/{world.org['id']}/invitations",
            {"role": "admin"},
        ),
        (
            world.org_admin.auth,
            f"/v1/organisations/{world.org['id']}/invitations",
            {"role": "caseworker", "expires_in_days": 365},
        ),
        (world.caseworker.auth, "/v1/caseworker/link-codes", {"label": "x" * 201}),
        (
            alice.auth,
            "/v1/grants",
            {"link_code": "x", "scope": "everything", "expires_at": in_days(1)},
        ),
        (alice.auth, "/v1/grants", [1, 2, 3]),
    ]
    for headers, path, body in cases:
        assert_problem(client.post(path, headers=headers, json=body), 422, "validation-error")
