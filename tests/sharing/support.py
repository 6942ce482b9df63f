"""Sharing test helpers and fixtures: real staff accounts built through the API.

The one exception is the service admin, who is created the way the CLI creates one
(`register(..., role="admin")`); everything after that goes over HTTP, including turning on
two-factor authentication for every staff account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.accounts.schemas import RegisterIn
from app.accounts.service import register
from app.errors import DEFAULT_PROBLEM_TYPE_BASE
from app.models import Base
from app.security.client import ClientFacts
from tests.conftest import PASSWORD, User, login

PROBLEM = DEFAULT_PROBLEM_TYPE_BASE  # PUBLIC_BASE_URL (the default) + /problems/


@dataclass
class Staff:
    user: User
    totp: pyotp.TOTP | None

    @property
    def auth(self) -> dict[str, str]:
        return self.user.auth


def enable_totp(client: TestClient, user: User) -> pyotp.TOTP:
    start = client.post("/v1/me/totp", headers=user.auth)
    assert start.status_code == 200, start.text
    totp = pyotp.TOTP(start.json()["secret"])
    confirm = client.post("/v1/me/totp/confirm", headers=user.auth, json={"code": totp.now()})
    assert confirm.status_code == 204, confirm.text
    return totp


def make_admin(app: FastAPI, client: TestClient, *, totp: bool = True) -> Staff:
    ctx = app.state.ctx
    username = f"admin-{uuid.uuid4().hex[:8]}"
    with ctx.sessionmaker.begin() as session:
        body = RegisterIn(username=username, password=PASSWORD)
        handle = register(ctx, session, body, ClientFacts("cli", "cli"), role="admin").username
    user = login(client, handle)
    return Staff(user, enable_totp(client, user) if totp else None)


def create_org(client: TestClient, admin: Staff, name: str | None = None) -> dict[str, Any]:
    body = {"name": name or f"Safe Haven {uuid.uuid4().hex[:6]}", "kind": "support_service"}
    response = client.post("/v1/organisations", headers=admin.auth, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def invite(client: TestClient, inviter: Staff, org_id: str, role: str) -> str:
    response = client.post(
        f"/v1/organisations/{org_id}/invitations", headers=inviter.auth, json={"role": role}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


def accept(
    client: TestClient, code: str, username: str, display_name: str = "Sam Okafor", **extra: Any
) -> Any:
    body = {"code": code, "username": username, "password": PASSWORD, "display_name": display_name}
    return client.post("/v1/invitations/accept", json={**body, **extra})


def join(
    client: TestClient,
    inviter: Staff,
    org_id: str,
    role: str,
    display_name: str = "Sam Okafor",
    *,
    totp: bool = True,
) -> Staff:
    username = f"{role}-{uuid.uuid4().hex[:8]}"
    response = accept(client, invite(client, inviter, org_id, role), username, display_name)
    assert response.status_code == 201, response.text
    user = login(client, response.json()["username"])
    return Staff(user, enable_totp(client, user) if totp else None)


def link_code(client: TestClient, caseworker: Staff, label: str | None = None) -> str:
    body = {} if label is None else {"label": label}
    response = client.post("/v1/caseworker/link-codes", headers=caseworker.auth, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def grant(
    client: TestClient, victim: User, code: str, scope: str = "assist", days: float = 30
) -> dict[str, Any]:
    body = {"link_code": code, "scope": scope, "expires_at": in_days(days)}
    response = client.post("/v1/grants", headers=victim.auth, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def set_column(app: FastAPI, table: str, row_id: str, **values: Any) -> None:
    """Tamper with one row directly (expiry tests), bypassing the API."""
    model = Base.metadata.tables[table]
    with app.state.ctx.engine.begin() as conn:
        conn.execute(update(model).where(model.c.id == uuid.UUID(row_id)).values(**values))


def past() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=1)


def assert_problem(response: Any, status: int, type_: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == PROBLEM + type_


@dataclass
class World:
    """An organisation with an admin, two caseworkers, and a service admin."""

    admin: Staff
    org: dict[str, Any]
    org_admin: Staff
    caseworker: Staff
    caseworker_b: Staff


@pytest.fixture
def world(app: FastAPI, client: TestClient) -> World:
    admin = make_admin(app, client)
    org = create_org(client, admin, "Safe Haven")
    org_admin = join(client, admin, org["id"], "org_admin", "Priya Shah")
    caseworker = join(client, org_admin, org["id"], "caseworker", "Sam Okafor")
    caseworker_b = join(client, org_admin, org["id"], "caseworker", "Jo Bright")
    return World(admin, org, org_admin, caseworker, caseworker_b)
