"""Registration is no oracle for who uses the service (issue 12, item 4).

The attack: register the victim's usual username with your own password, then log in. Before,
200 meant the name was free and 401 that someone used it. Now every account gets a handle of
the chosen name plus a random suffix, so the attacker's outcomes are the same whether or not
the victim exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import PASSWORD, register

ATTACKER_PASSWORD = "the attacker's own long passphrase"


def _attack(client: TestClient, name: str) -> list[tuple[int, object]]:
    """What the attacker sees: registering `name`, then logging in two ways."""
    created = client.post("/v1/accounts", json={"username": name, "password": ATTACKER_PASSWORD})
    body = created.json()
    handle = body.pop("username")
    assert re.fullmatch(re.escape(name) + r"-[0-9]{4}", handle)
    bare = client.post("/v1/auth/token", json={"username": name, "password": ATTACKER_PASSWORD})
    full = client.post("/v1/auth/token", json={"username": handle, "password": ATTACKER_PASSWORD})
    full_body = full.json()
    return [
        (created.status_code, body),
        (bare.status_code, {k: v for k, v in bare.json().items() if k != "request_id"}),
        (full.status_code, sorted(full_body)),
    ]


def test_no_enumeration_registering_a_used_name_then_logging_in_tells_nothing(
    client: TestClient,
) -> None:
    victim = register(client, "alice")  # the victim's usual name
    assert victim.startswith("alice-")
    used = _attack(client, "alice")
    unused = _attack(client, "nobody-uses-this")
    assert used == unused
    assert [status for status, _ in used] == [201, 401, 200]
    # The victim's own account is untouched: her handle and password still work.
    me = client.post("/v1/auth/token", json={"username": victim, "password": PASSWORD})
    assert me.status_code == 200


def test_no_enumeration_the_same_name_always_gets_a_new_handle(client: TestClient) -> None:
    handles = {register(client, "river") for _ in range(5)}
    assert len(handles) == 5
    assert all(re.fullmatch(r"river-[0-9]{4}", h) for h in handles)


def test_the_bare_chosen_name_never_logs_in(client: TestClient) -> None:
    register(client, "marigold-path")
    bare = client.post("/v1/auth/token", json={"username": "marigold-path", "password": PASSWORD})
    assert bare.status_code == 401


def test_a_chosen_name_that_leaves_no_room_for_the_suffix_is_a_422(client: TestClient) -> None:
    long = client.post("/v1/accounts", json={"username": "n" * 56, "password": PASSWORD})
    assert long.status_code == 422
    assert long.headers["content-type"] == "application/problem+json"
    handle = register(client, "n" * 55)
    assert len(handle) == 60
    assert (
        client.post("/v1/auth/token", json={"username": handle, "password": PASSWORD}).status_code
        == 200
    )


@pytest.fixture
def strict_client(settings: Settings) -> Iterator[TestClient]:
    application: FastAPI = create_app(
        settings.model_copy(
            update={"registrations_per_address_per_hour": 3, "trust_forwarded_for": True}
        )
    )
    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client
    application.state.ctx.engine.dispose()


def test_brute_force_registration_is_limited_per_address(strict_client: TestClient) -> None:
    statuses = [
        strict_client.post(
            "/v1/accounts", json={"username": f"mass-{i}", "password": PASSWORD}
        ).status_code
        for i in range(4)
    ]
    assert statuses == [201, 201, 201, 429]
    refused = strict_client.post(
        "/v1/accounts", json={"username": "one-more", "password": PASSWORD}
    )
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["content-type"] == "application/problem+json"
    # Another address is not affected.
    other = strict_client.post(
        "/v1/accounts",
        json={"username": "elsewhere", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert other.status_code == 201
