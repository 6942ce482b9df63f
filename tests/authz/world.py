"""The cast of the authorization matrix, built through the API (except the service admin).

Victim A owns everything the paths name; victim B is another account; six caseworkers of one
organisation: three with A's consent (one per scope), one never granted, one whose grant A
revoked, one whose grant expired; an organisation admin; a service admin; an export of A's
diary that the assist caseworker prepared; A's share link (live, with A's evidence: one photo
attached to A's incident, exhibit EX-001) and A's revoked share link; and nobody at all.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.accounts.schemas import RegisterIn
from app.accounts.service import register
from app.security.client import ClientFacts
from tests.conftest import PASSWORD, User, login, new_user
from tests.diary.support import incident_body, subject_body
from tests.evidence.support import create_upload, new_evidence
from tests.exports.jobs_support import wait
from tests.sharing.shares_support import create_share
from tests.sharing.support import (
    accept,
    create_org,
    enable_totp,
    grant,
    invite,
    link_code,
    past,
    set_column,
)

MARKER = "MATRIX-A-8f3c1d"
# A's unfinished tus upload is 10 bytes long; the matrix PATCHes its first five.
UPLOAD_HEAD = b"\xff\xd8\xff\xe0\x00"
NEW_PASSWORD = "a different correct horse battery"

VICTIMS = ("victim_a", "victim_b")
LIVE_CASEWORKERS = ("cw_summary", "cw_diary", "cw_assist")
DEAD_CASEWORKERS = ("cw_no_grant", "cw_revoked", "cw_expired")
CASEWORKERS = LIVE_CASEWORKERS + DEAD_CASEWORKERS
MANAGERS = ("org_admin", "admin")
STAFF = CASEWORKERS + MANAGERS
ACCOUNTS = VICTIMS + STAFF
LINKS = ("share_link", "share_link_revoked")
ROLES = (*ACCOUNTS, *LINKS, "anonymous")
# Who may read A's diary content somewhere (each only where the matrix says 2xx).
ENTITLED = frozenset({"victim_a", *LIVE_CASEWORKERS, "share_link"})


@dataclass
class Member:
    user: User
    totp: pyotp.TOTP | None = None
    spare: User | None = None  # a second session, for routes that end the caller's session

    def later_code(self) -> str | None:
        # One step ahead: the current step may have been used already (codes are single-use).
        return self.totp.at(time.time() + 30) if self.totp else None


@dataclass
class World:
    members: dict[str, Member]
    ids: dict[str, str]
    client_ids: dict[str, str]
    tokens: dict[str, str]
    org_id: str

    def headers(self, role: str, *, spare: bool = False) -> dict[str, str]:
        member = self.members.get(role)
        if member is None:
            return {}
        user = member.spare if spare and member.spare else member.user
        return user.auth


def _victim(client: TestClient) -> Member:
    user = new_user(client)
    return Member(user, None, login(client, user.username))


def _staff(client: TestClient, inviter: User, org_id: str, role: str, name: str) -> Member:
    username = f"{role}-{uuid.uuid4().hex[:8]}"
    code = invite(client, _as_staff(inviter), org_id, role)
    accepted = accept(client, code, username, name)
    assert accepted.status_code == 201
    handle = accepted.json()["username"]
    user, spare = login(client, handle), login(client, handle)
    return Member(user, enable_totp(client, user), spare)


@dataclass
class _Auth:
    user: User

    @property
    def auth(self) -> dict[str, str]:
        return self.user.auth


def _as_staff(user: User) -> Any:
    return _Auth(user)


def _admin(app: FastAPI, client: TestClient) -> Member:
    ctx = app.state.ctx
    username = f"admin-{uuid.uuid4().hex[:8]}"
    with ctx.sessionmaker.begin() as session:
        body = RegisterIn(username=username, password=PASSWORD)
        handle = register(ctx, session, body, ClientFacts("cli", "cli"), role="admin").username
    user, spare = login(client, handle), login(client, handle)
    return Member(user, enable_totp(client, user), spare)


def build_world(app: FastAPI, client: TestClient) -> World:
    admin = _admin(app, client)
    org = create_org(client, _as_staff(admin.user), f"Matrix Haven {uuid.uuid4().hex[:6]}")
    members: dict[str, Member] = {"victim_a": _victim(client), "victim_b": _victim(client)}
    members["org_admin"] = _staff(client, admin.user, org["id"], "org_admin", "Priya Shah")
    for role in CASEWORKERS:
        members[role] = _staff(client, members["org_admin"].user, org["id"], "caseworker", role)
    members["admin"] = admin
    a = members["victim_a"].user

    subject = client.post("/v1/subjects", headers=a.auth, json=subject_body(MARKER)).json()
    body = incident_body(subject_ids=[subject["id"]], description=f"{MARKER} he followed me")
    incident = client.post("/v1/incidents", headers=a.auth, json=body).json()
    client_ids = {}
    for role, scope in (
        ("cw_summary", "summary"),
        ("cw_diary", "diary"),
        ("cw_assist", "assist"),
        ("cw_revoked", "assist"),
        ("cw_expired", "assist"),
    ):
        client_ids[role] = grant(
            client, a, link_code(client, _as_staff(members[role].user)), scope
        )["id"]
    assert (
        client.delete(f"/v1/grants/{client_ids['cw_revoked']}", headers=a.auth).status_code == 204
    )
    set_column(app, "consent_grants", client_ids["cw_expired"], expires_at=past())
    evidence = new_evidence(client, a.auth, f"{MARKER} the gate", [incident["id"]])
    upload_id = create_upload(client, a.auth, 10).rsplit("/", 1)[-1]
    live = create_share(client, a, recipient_name=f"PC {MARKER}", scope={"include_evidence": True})
    revoked = create_share(client, a)
    assert client.delete(f"/v1/shares/{revoked['id']}", headers=a.auth).status_code == 204
    note = {"text": f"{MARKER} note"}
    assert (
        client.post(
            f"/v1/clients/{client_ids['cw_assist']}/notes",
            headers=members["cw_assist"].user.auth,
            json=note,
        ).status_code
        == 201
    )
    export_id = _prepared_export(client, members["cw_assist"].user, client_ids["cw_assist"], a)
    return World(
        members=members,
        ids={
            "subject_id": subject["id"],
            "incident_id": incident["id"],
            "grant_id": client_ids["cw_assist"],
            "share_id": live["id"],
            "session_id": a.session_id,
            "organisation_id": org["id"],
            "evidence_id": evidence,
            "upload_id": upload_id,
            "export_id": export_id,
        },
        client_ids=client_ids,
        tokens={"share_link": live["token"], "share_link_revoked": revoked["token"]},
        org_id=org["id"],
    )


def _prepared_export(client: TestClient, caseworker: User, client_id: str, a: User) -> str:
    """An export of A's diary that the assist caseworker prepared, made and ready to download."""
    response = client.post(
        f"/v1/clients/{client_id}/exports", headers=caseworker.auth, json={"format": "json"}
    )
    assert response.status_code == 202, response.text
    export_id = str(response.json()["id"])
    assert wait(client, a, export_id)["status"] == "done"
    return export_id


__all__ = ["NEW_PASSWORD", "PASSWORD", "World", "build_world"]
