"""One-time codes under concurrency: of many simultaneous uses, exactly one succeeds.

The requests go to a real server process, whose thread pool runs them at once against the
test's database (SQLite file or PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, LiveServer, new_user
from tests.sharing.support import World, in_days, invite, link_code

pytestmark = pytest.mark.slow
RACERS = 6


def _race(calls: list[Callable[[], httpx.Response]]) -> list[int]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return sorted(f.result().status_code for f in [pool.submit(c) for c in calls])


def test_one_invitation_accepted_at_once_makes_one_account(
    client: TestClient, world: World, live_server: LiveServer
) -> None:
    code = invite(client, world.org_admin, world.org["id"], "caseworker")

    handles: list[str] = []

    def accept_as(n: int) -> Callable[[], httpx.Response]:
        body = {"code": code, "username": f"racer-{n}", "password": PASSWORD, "display_name": "R"}

        def call() -> httpx.Response:
            url = f"{live_server.url}/v1/invitations/accept"
            response = httpx.post(url, json=body, timeout=60)
            if response.status_code == 201:
                handles.append(response.json()["username"])
            return response

        return call

    assert _race([accept_as(n) for n in range(RACERS)]) == [201] + [422] * (RACERS - 1)
    assert len(handles) == 1
    winner = client.post("/v1/auth/token", json={"username": handles[0], "password": PASSWORD})
    assert winner.status_code == 200


def test_one_link_code_used_at_once_makes_one_grant(
    client: TestClient, world: World, live_server: LiveServer
) -> None:
    victims = [new_user(client) for _ in range(RACERS)]
    code = link_code(client, world.caseworker)
    body = {"link_code": code, "scope": "diary", "expires_at": in_days(10)}

    def use_as(n: int) -> Callable[[], httpx.Response]:
        url = f"{live_server.url}/v1/grants"
        return lambda: httpx.post(url, json=body, headers=victims[n].auth, timeout=60)

    assert _race([use_as(n) for n in range(RACERS)]) == [201] + [422] * (RACERS - 1)
    clients = client.get("/v1/clients", headers=world.caseworker.auth).json()["items"]
    assert len(clients) == 1
