"""The people and data the contract fuzzer acts as, built through the API (once per run, then
copied for each test: tests/fuzz/conftest.py), and the ASGI shim that serves the test's app.

A victim (A) with a small diary, a service admin, and a caseworker who holds A's consent, both
staff with two-factor authentication on (staff routes refuse staff without it). For every
other generated case that should be valid, path parameters that name A's real objects (and a
fresh `If-Match`) are swapped in, so the fuzzer reaches the handlers past the 404 and the 412
as well as the 404 and the 412 themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import User, new_user
from tests.sharing.shares_support import add_incident, add_subject
from tests.sharing.support import Staff, create_org, grant, join, link_code, make_admin


class CurrentApp:
    """An ASGI app that forwards to the running test's app (each test has its own database).

    Schemathesis binds one app to a schema loaded at import time; the apps are made per test.
    """

    target: FastAPI | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert self.target is not None, "no test app is running"
        await self.target(scope, receive, send)


CURRENT = CurrentApp()

# Where the current ETag of an object named by a path parameter is read (for If-Match).
ETAG_SOURCES = {"incident_id": "/v1/incidents/{}", "subject_id": "/v1/subjects/{}"}


@dataclass
class World:
    app: FastAPI
    client: TestClient
    victim: User
    admin: Staff
    caseworker: Staff
    # Real ids by path-parameter name, for each role that may name them.
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: int = 0

    def headers_for(self, role: str) -> dict[str, str]:
        people = {"victim": self.victim.auth, "caseworker": self.caseworker.auth}
        people["admin"] = self.admin.auth
        return dict(people.get(role, {}))

    def aim_at_real_objects(self, case: Any, role: str) -> None:
        """Every other positive case names real objects and carries their current ETag."""
        self.calls += 1
        if self.calls % 2 or case.meta is None or case.meta.generation.mode.value != "positive":
            return
        known = self.ids.get(role, {})
        swapped = {name: known[name] for name in case.path_parameters or {} if name in known}
        if not swapped:
            return
        case.path_parameters = {**case.path_parameters, **swapped}
        if case.headers is not None and "If-Match" in case.headers:
            for name, template in ETAG_SOURCES.items():
                if name in swapped:
                    current = self.client.get(
                        template.format(swapped[name]), headers=self.headers_for(role)
                    )
                    if "etag" in current.headers:
                        case.headers = {**case.headers, "If-Match": current.headers["etag"]}


def build_world(app: FastAPI, client: TestClient) -> World:
    """Everyone and everything through the API (the service admin as the CLI makes one)."""
    victim = new_user(client, "fuzz-victim")
    admin = make_admin(app, client)
    org = create_org(client, admin)
    org_admin = join(client, admin, org["id"], "org_admin", "Priya Shah")
    caseworker = join(client, org_admin, org["id"], "caseworker", "Sam Okafor")
    consent = grant(client, victim, link_code(client, caseworker), scope="assist")
    subject = add_subject(client, victim)
    incident = str(add_incident(client, victim, subject_ids=[subject])["id"])
    add_incident(client, victim, occurred_at="2024-03-08T21:00:00Z", subject_ids=[subject])
    clients = client.get("/v1/clients", headers=caseworker.auth)
    assert clients.status_code == 200, clients.text
    client_id = str(clients.json()["items"][0]["id"])
    return World(
        app=app,
        client=client,
        victim=victim,
        admin=admin,
        caseworker=caseworker,
        ids={
            "victim": {
                "subject_id": subject,
                "incident_id": incident,
                "grant_id": str(consent["id"]),
                "session_id": str(victim.session_id),
            },
            "caseworker": {"client_id": client_id, "incident_id": incident},
            "admin": {"organisation_id": str(org["id"])},
        },
    )
