"""What the contract fuzzer found, pinned as plain examples so each fix stays fixed."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.openapi import render
from tests.conftest import User
from tests.diary.support import incident_body, subject_body
from tests.sharing.shares_support import share_body
from tests.sharing.support import assert_problem

PUBLIC_OPERATIONS = {
    "ops_health",
    "ops_ready",
    "ops_metrics",
    "accounts_create",
    "auth_token_create",
    "auth_token_refresh",
    "invitations_accept",
    "keys_list",
    "taxonomy_get",
}


def test_suggestions_for_an_unknown_subject_are_a_404_not_a_500(
    client: TestClient, alice: User, bob: User
) -> None:
    bobs = client.post("/v1/subjects", headers=bob.auth, json=subject_body()).json()["id"]
    for subject_id in (str(uuid.uuid4()), bobs):
        response = client.get(
            "/v1/risk-assessments/suggestions",
            params={"subject_id": subject_id},
            headers=alice.auth,
        )
        assert_problem(response, 404, "not-found")


@pytest.mark.parametrize(
    "overrides",
    [
        {"via_third_party": 0},
        {"reported_to_police": "true"},
        {"recorded_contemporaneously": 1},
        {"impact": {"fear_of_violence": "yes"}},
        {"coordinates": {"latitude": "51.5", "longitude": 0}},
        {"coordinates": {"latitude": True, "longitude": 0}},
        {"occurred_at": 1709323500},
        {"occurred_at": "1709323500"},
    ],
)
def test_incident_values_of_the_wrong_json_type_are_refused(
    client: TestClient, alice: User, overrides: dict[str, Any]
) -> None:
    response = client.post("/v1/incidents", headers=alice.auth, json=incident_body(**overrides))
    assert_problem(response, 422, "validation-error")
    assert client.get("/v1/incidents", headers=alice.auth).json()["items"] == []


def test_a_number_is_not_an_order_date(client: TestClient, alice: User) -> None:
    body = subject_body(orders=[{"kind": "restraining_order", "starts_on": 0}])
    response = client.post("/v1/subjects", headers=alice.auth, json=body)
    assert_problem(response, 422, "validation-error")


@pytest.mark.parametrize("path", ["/v1/incidents", "/v1/chronology"])
def test_time_filters_take_iso_8601_not_unix_times(
    client: TestClient, alice: User, path: str
) -> None:
    for value in ("0.5", "1709323500"):
        assert_problem(client.get(path, params={"to": value}, headers=alice.auth), 422,
                       "validation-error")  # fmt: skip
    ok = client.get(path, params={"from": "2024-03-01T00:00:00Z"}, headers=alice.auth)
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("method", ["DELETE", "GET", "OPTIONS"])
def test_revoke_all_is_its_own_resource(client: TestClient, alice: User, method: str) -> None:
    response = client.request(method, "/v1/sessions/revoke-all", headers=alice.auth)
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"
    assert client.get("/v1/sessions", headers=alice.auth).json()["items"]


def test_a_malformed_session_id_is_not_found(client: TestClient, alice: User) -> None:
    response = client.delete("/v1/sessions/not-a-session", headers=alice.auth)
    assert_problem(response, 404, "not-found")


def test_a_body_that_is_not_json_is_a_documented_400(client: TestClient, alice: User) -> None:
    response = client.post(
        "/v1/incidents",
        headers={**alice.auth, "Content-Type": "application/json"},
        content=b"\x04\xff",
    )
    assert_problem(response, 400, "bad-request")


def test_the_spec_says_which_operations_need_a_token_and_how_bodies_fail(app: FastAPI) -> None:
    spec = json.loads(render(app))
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            # Share-link pages carry their own secret; OPTIONS is discovery (CORS, tus).
            public = (
                operation["operationId"] in PUBLIC_OPERATIONS
                or path.startswith("/s/")
                or method == "options"
            )
            assert ("security" not in operation) == public, (method, path)
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert {"400", "413", "415", "422"} <= set(operation["responses"]), (method, path)


@pytest.mark.parametrize("expires_at", [4102444800, "4102444800", 4102444800.5, True])
def test_share_and_grant_expiry_must_be_an_iso_date_time_not_a_unix_time(
    client: TestClient, alice: User, expires_at: Any
) -> None:
    share = client.post("/v1/shares", headers=alice.auth, json=share_body(expires_at=expires_at))
    assert_problem(share, 422, "validation-error")
    grant = client.post(
        "/v1/grants",
        headers=alice.auth,
        json={"link_code": "0000-0000-0000-0000", "scope": "summary", "expires_at": expires_at},
    )
    assert_problem(grant, 422, "validation-error")
    assert client.get("/v1/shares", headers=alice.auth).json()["items"] == []
