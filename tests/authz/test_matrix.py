"""The authorization matrix: every route of the app x every role -> exactly this status.

One table (`MATRIX`) names, for each (method, path template), what each role gets. Paths are
filled with victim A's real ids, so another account meets A's objects as 404, never 403, and
no response to a role that may not read A's diary contains A's marker text. A route the app
serves that is missing from the table fails `test_every_route_is_in_the_matrix`.

The cast (tests/authz/world.py) is built once per module. Requests run in phases: reads,
then writes that leave the cast intact, then destructive ones in a fixed order (withdrawing
A's incident and subject, revoking A's grant and share, turning 2FA off, logging out, ending
A's session). The three routes that end every session or the account itself (revoke-all,
password change, erasure) each get a fresh cast of their own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.main import ROUTERS, create_app
from app.settings import Settings
from tests.authz.world import (
    ACCOUNTS,
    CASEWORKERS,
    DEAD_CASEWORKERS,
    ENTITLED,
    LIVE_CASEWORKERS,
    MANAGERS,
    MARKER,
    NEW_PASSWORD,
    PASSWORD,
    ROLES,
    STAFF,
    UPLOAD_HEAD,
    VICTIMS,
    World,
    build_world,
)
from tests.conftest import PG_URL, _pg_admin_url
from tests.diary.support import incident_body, subject_body
from tests.evidence.support import jpeg_with_exif
from tests.sharing.shares_support import share_body

Expect = dict[str, int]
Body = Callable[[World, str], Any] | Mapping[str, Any] | None
UNKNOWN_TOKEN = "chs_" + "u" * 43
SCOPE_RANK = {"cw_summary": 1, "cw_diary": 2, "cw_assist": 3}


def expect(default: int, **overrides: int) -> Expect:
    """`default` for every role that holds an account; 401 for links and anonymous."""
    table = {role: default for role in ACCOUNTS}
    table.update({"share_link": 401, "share_link_revoked": 401, "anonymous": 401})
    table.update(overrides)
    return table


def public(status: int) -> Expect:
    return dict.fromkeys(ROLES, status)


def owned(ok: int) -> Expect:
    """A's own object, through a route any account may use: others get 404."""
    return expect(404, victim_a=ok)


def victims(a: int, b: int | None = None) -> Expect:
    """A victim-only route: staff are refused by role (403)."""
    return expect(403, victim_a=a, victim_b=a if b is None else b)


def caseworkers(ok: int) -> Expect:
    return expect(403, **dict.fromkeys(CASEWORKERS, ok))


def client_route(need: int, ok: int) -> Expect:
    """/v1/clients/{id}/...: each caseworker with their own client id for A."""
    table = caseworkers(404)
    for role, rank in SCOPE_RANK.items():
        table[role] = ok if rank >= need else 403
    return table


def viewer(ok: int) -> Expect:
    table = public(404)
    table.update(share_link=ok, share_link_revoked=410)
    return table


@dataclass(frozen=True)
class Check:
    expect: Expect
    phase: str = "read"  # read, write, destroy, or own (a fresh cast per role)
    body: Body = None
    headers: Mapping[str, str] | None = None
    form: Mapping[str, str] | None = None
    content: bytes | None = None  # a raw body (tus PATCH)
    files: Mapping[str, tuple[str, bytes, str]] | None = None  # a multipart upload
    spare: bool = False  # use the role's spare session (the route ends it)


def _account_body(world: World, role: str) -> dict[str, Any]:
    return {"username": f"new-{uuid.uuid4().hex[:10]}", "password": PASSWORD}


def _login_body(world: World, role: str) -> dict[str, Any]:
    return {"username": world.members["victim_a"].user.username, "password": PASSWORD}


def _org_body(world: World, role: str) -> dict[str, Any]:
    return {"name": f"Org {uuid.uuid4().hex[:8]}", "kind": "support_service"}


def _invitation_body(world: World, role: str) -> dict[str, Any]:
    # Service admins invite organisation admins, who invite caseworkers.
    return {"role": "org_admin" if role == "admin" else "caseworker"}


def _reauth(world: World, role: str) -> dict[str, Any]:
    member = world.members.get(role)
    code = member.later_code() if member else None
    return {"password": PASSWORD, **({"totp_code": code} if code else {})}


def _password_change(world: World, role: str) -> dict[str, Any]:
    return {"current_password": PASSWORD, "new_password": NEW_PASSWORD, **_totp(world, role)}


def _totp(world: World, role: str) -> dict[str, Any]:
    member = world.members.get(role)
    code = member.later_code() if member else None
    return {"totp_code": code} if code else {}


ANY_MATCH = {"If-Match": "*"}
TUS = {"Tus-Resumable": "1.0.0"}
TUS_PATCH = {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
P = "/v1/clients/{client_id}"
C = "/console/clients/{client_id}"

MATRIX: dict[tuple[str, str], Check] = {
    # Operations and public references
    ("GET", "/healthz"): Check(public(200)),
    ("GET", "/readyz"): Check(public(200)),
    ("GET", "/metrics"): Check(public(200)),
    ("GET", "/v1/taxonomy"): Check(public(200)),
    ("GET", "/v1/keys"): Check(public(200)),
    # Accounts and sessions
    ("POST", "/v1/accounts"): Check(public(201), "write", _account_body),
    ("POST", "/v1/auth/token"): Check(public(200), "write", _login_body),
    ("POST", "/v1/auth/refresh"): Check(public(401), "write", {"refresh_token": "chr_nope"}),
    ("POST", "/v1/invitations/accept"): Check(
        public(422),
        "write",
        {"code": "chi_nope", "username": "x-" + "y" * 8, "password": PASSWORD, "display_name": "X"},
    ),
    ("GET", "/v1/me"): Check(expect(200)),
    ("PATCH", "/v1/me"): Check(expect(200), "write", {"jurisdiction": "england_wales"}),
    ("GET", "/v1/me/security-events"): Check(expect(200)),
    ("POST", "/v1/me/totp"): Check(expect(422, victim_a=200, victim_b=200), "write"),
    ("POST", "/v1/me/totp/confirm"): Check(expect(422), "write", {"code": "000000"}),
    ("POST", "/v1/me/totp/disable"): Check(expect(204), "destroy", _reauth),
    ("GET", "/v1/sessions"): Check(expect(200)),
    ("POST", "/v1/auth/logout"): Check(expect(204), "destroy", spare=True),
    ("DELETE", "/v1/sessions/{session_id}"): Check(owned(204), "destroy"),
    ("POST", "/v1/sessions/revoke-all"): Check(expect(200), "own"),
    ("POST", "/v1/me/password"): Check(expect(204), "own", _password_change),
    ("DELETE", "/v1/me"): Check(expect(204), "own", _reauth),
    ("POST", "/v1/me/recovery-codes"): Check(expect(201), "own", _reauth),
    # The diary: any account has its own; A's objects are 404 to everyone else
    ("GET", "/v1/sync"): Check(expect(200)),
    ("GET", "/v1/diary/integrity"): Check(expect(200)),
    ("GET", "/v1/chronology"): Check(expect(200)),
    ("POST", "/v1/subjects"): Check(expect(201), "write", subject_body()),
    ("GET", "/v1/subjects"): Check(expect(200)),
    ("GET", "/v1/subjects/{subject_id}"): Check(owned(200)),
    ("PATCH", "/v1/subjects/{subject_id}"): Check(
        owned(200), "write", {"description": "Seen again"}, ANY_MATCH
    ),
    ("DELETE", "/v1/subjects/{subject_id}"): Check(owned(204), "destroy", None, ANY_MATCH),
    ("GET", "/v1/subjects/{subject_id}/revisions"): Check(owned(200)),
    ("POST", "/v1/incidents"): Check(expect(201), "write", incident_body()),
    ("GET", "/v1/incidents"): Check(expect(200)),
    ("GET", "/v1/incidents/{incident_id}"): Check(owned(200)),
    ("PATCH", "/v1/incidents/{incident_id}"): Check(
        owned(200), "write", {"witnesses": "A neighbour"}, ANY_MATCH
    ),
    ("DELETE", "/v1/incidents/{incident_id}"): Check(owned(204), "destroy", None, ANY_MATCH),
    ("GET", "/v1/incidents/{incident_id}/revisions"): Check(owned(200)),
    ("GET", "/v1/incident-drafts"): Check(victims(200)),
    # Evidence: uploads (tus and one request), records and files, each account its own
    ("OPTIONS", "/v1/uploads"): Check(public(204)),
    ("GET", "/v1/uploads"): Check(expect(200)),
    ("POST", "/v1/uploads"): Check(expect(201), "write", None, {**TUS, "Upload-Length": "10"}),
    ("HEAD", "/v1/uploads/{upload_id}"): Check(owned(200), headers=TUS),
    ("PATCH", "/v1/uploads/{upload_id}"): Check(
        owned(204), "write", headers=TUS_PATCH, content=UPLOAD_HEAD
    ),
    ("DELETE", "/v1/uploads/{upload_id}"): Check(owned(204), "destroy", headers=TUS),
    ("POST", "/v1/evidence"): Check(
        expect(201), "write", files={"file": ("photo.jpg", jpeg_with_exif(), "image/jpeg")}
    ),
    ("GET", "/v1/evidence"): Check(expect(200)),
    ("GET", "/v1/evidence/{evidence_id}"): Check(owned(200)),
    ("PATCH", "/v1/evidence/{evidence_id}"): Check(
        owned(200), "write", {"caption": "Taken at the gate"}, ANY_MATCH
    ),
    ("DELETE", "/v1/evidence/{evidence_id}"): Check(owned(204), "destroy", None, ANY_MATCH),
    ("GET", "/v1/evidence/{evidence_id}/content"): Check(owned(200)),
    # Exports: each account its own; A's was prepared by the assist caseworker
    ("POST", "/v1/exports"): Check(expect(202), "write", {"format": "json"}),
    ("GET", "/v1/exports"): Check(expect(200)),
    ("GET", "/v1/exports/{export_id}"): Check(owned(200)),
    ("GET", "/v1/exports/{export_id}/download"): Check(owned(200)),
    ("DELETE", "/v1/exports/{export_id}"): Check(owned(204), "destroy"),
    ("GET", "/v1/me/export"): Check(victims(200)),
    ("POST", "/v1/risk-assessments"): Check(expect(201), "write", {"answers": {}}),
    ("GET", "/v1/risk-assessments"): Check(expect(200)),
    ("GET", "/v1/risk-assessments/suggestions"): Check(expect(200)),
    # Organisations and staff
    ("POST", "/v1/organisations"): Check(expect(403, admin=201), "write", _org_body),
    ("GET", "/v1/organisations"): Check(expect(200, victim_a=403, victim_b=403)),
    ("POST", "/v1/organisations/{organisation_id}/invitations"): Check(
        expect(403, org_admin=201, admin=201), "write", _invitation_body
    ),
    # Consent, the victim's side
    ("POST", "/v1/grants"): Check(
        victims(422),
        "write",
        {
            "link_code": "0000-0000-0000-0000",
            "scope": "summary",
            "expires_at": "2099-01-01T00:00:00Z",
        },
    ),
    ("GET", "/v1/grants"): Check(victims(200)),
    ("GET", "/v1/grants/{grant_id}"): Check(victims(200, 404)),
    ("DELETE", "/v1/grants/{grant_id}"): Check(victims(204, 404), "destroy"),
    ("GET", "/v1/caseworker-notes"): Check(victims(200)),
    ("GET", "/v1/audit"): Check(victims(200)),
    # The caseworker's side
    ("POST", "/v1/caseworker/link-codes"): Check(caseworkers(201), "write", {}),
    ("GET", "/v1/clients"): Check(caseworkers(200)),
    ("GET", P): Check(client_route(1, 200)),
    ("GET", P + "/chronology"): Check(client_route(1, 200)),
    ("GET", P + "/notes"): Check(client_route(1, 200)),
    ("POST", P + "/notes"): Check(client_route(3, 201), "write", {"text": "Called today."}),
    ("GET", P + "/incidents"): Check(client_route(2, 200)),
    ("GET", P + "/incidents/{incident_id}"): Check(client_route(2, 200)),
    ("GET", P + "/incidents/{incident_id}/revisions"): Check(client_route(2, 200)),
    ("GET", P + "/risk-assessments/suggestions"): Check(client_route(3, 200)),
    ("POST", P + "/risk-assessments"): Check(
        client_route(3, 201), "write", {"answers": {"q1": {"answer": "yes"}}}
    ),
    ("POST", P + "/incidents"): Check(client_route(3, 201), "write", incident_body()),
    ("POST", P + "/exports"): Check(client_route(3, 202), "write", {"format": "json"}),
    ("GET", P + "/exports/{export_id}"): Check(client_route(3, 200)),
    ("GET", P + "/evidence"): Check(client_route(2, 200)),
    ("GET", P + "/evidence/{evidence_id}"): Check(client_route(2, 200)),
    ("GET", P + "/evidence/{evidence_id}/content"): Check(client_route(2, 200)),
    # Officer shares, the victim's side
    ("POST", "/v1/shares"): Check(victims(201), "write", lambda w, r: share_body()),
    ("GET", "/v1/shares"): Check(victims(200)),
    ("GET", "/v1/shares/{share_id}"): Check(victims(200, 404)),
    ("GET", "/v1/shares/{share_id}/accesses"): Check(victims(200, 404)),
    ("DELETE", "/v1/shares/{share_id}"): Check(victims(204, 404), "destroy"),
    # The viewer: the link is the credential; bearer tokens open nothing here
    ("GET", "/s/{token}"): Check(viewer(200)),
    ("POST", "/s/{token}"): Check(viewer(303), "write", form={"passcode": "whatever1"}),
    ("GET", "/s/{token}/chronology.pdf"): Check(viewer(200)),
    ("GET", "/s/{token}/bundle.zip"): Check(viewer(200)),
    ("GET", "/s/{token}/exhibits/{number}"): Check(viewer(200)),
    # The caseworker console: only its own session cookie opens it (tests/console signs each
    # kind of staff in); a bearer token, a share link or nothing is sent to sign in (303), and
    # a form posted without the console's CSRF token is refused (403).
    ("GET", "/console/"): Check(public(303)),
    ("GET", "/console/sign-in"): Check(public(200)),
    ("POST", "/console/sign-in"): Check(public(403), "write", form={"username": "x"}),
    ("POST", "/console/sign-out"): Check(public(303), "write", form={"csrf": "x"}),
    ("GET", "/console/clients"): Check(public(303)),
    ("POST", "/console/clients/link-codes"): Check(public(303), "write", form={"csrf": "x"}),
    ("GET", C): Check(public(303)),
    ("POST", C + "/notes"): Check(public(303), "write", form={"csrf": "x", "text": "n"}),
    ("GET", C + "/evidence"): Check(public(303)),
    ("GET", C + "/evidence/{evidence_id}/content"): Check(public(303)),
    ("GET", C + "/draft"): Check(public(303)),
    ("POST", C + "/draft"): Check(public(303), "write", form={"csrf": "x"}),
    ("GET", C + "/incidents"): Check(public(303)),
    ("GET", C + "/incidents/{incident_id}/revisions"): Check(public(303)),
    ("GET", C + "/screening"): Check(public(303)),
    ("POST", C + "/screening"): Check(public(303), "write", form={"csrf": "x", "q1": "yes"}),
    ("GET", C + "/exports"): Check(public(303)),
    ("POST", C + "/exports"): Check(public(303), "write", form={"csrf": "x", "format": "pdf"}),
    ("GET", "/console/join"): Check(public(200)),
    ("POST", "/console/join"): Check(public(403), "write", form={"code": "x"}),
    ("GET", "/console/two-factor"): Check(public(303)),
    ("POST", "/console/two-factor/start"): Check(public(303), "write", form={"csrf": "x"}),
    ("POST", "/console/two-factor/confirm"): Check(public(303), "write", form={"csrf": "x"}),
    ("GET", "/console/sessions"): Check(public(303)),
    ("POST", "/console/sessions/{session_id}/end"): Check(public(303), "write", form={"csrf": "x"}),
    ("GET", "/console/organisation"): Check(public(303)),
    ("POST", "/console/organisation/invitations"): Check(public(303), "write", form={"csrf": "x"}),
    ("POST", "/console/organisation/members/{account_id}/remove"): Check(
        public(303), "write", form={"csrf": "x"}
    ),
}

# Destructive checks run in this order, after every read and write.
DESTROY_ORDER = [
    ("DELETE", "/v1/uploads/{upload_id}"),
    ("DELETE", "/v1/evidence/{evidence_id}"),
    ("DELETE", "/v1/exports/{export_id}"),
    ("DELETE", "/v1/incidents/{incident_id}"),
    ("DELETE", "/v1/subjects/{subject_id}"),
    ("DELETE", "/v1/grants/{grant_id}"),
    ("DELETE", "/v1/shares/{share_id}"),
    ("POST", "/v1/me/totp/disable"),
    ("POST", "/v1/auth/logout"),
    ("DELETE", "/v1/sessions/{session_id}"),
]


def _fill(world: World, template: str, role: str) -> str:
    values = {
        **world.ids,
        "client_id": world.client_ids.get(role, world.client_ids["cw_assist"]),
        "token": world.tokens.get(role, UNKNOWN_TOKEN),
        "number": "EX-001",
        "account_id": str(uuid.UUID(int=1)),  # a console member id: unknown to everyone
    }
    return template.format(**values)


def _request(client: TestClient, world: World, method: str, template: str, role: str) -> Any:
    check = MATRIX[(method, template)]
    body = check.body(world, role) if callable(check.body) else check.body
    kwargs: dict[str, Any] = {
        "headers": {**world.headers(role, spare=check.spare), **(check.headers or {})},
        "follow_redirects": False,
    }
    if check.form is not None:
        kwargs["data"] = dict(check.form)
    elif check.files is not None:
        kwargs["files"] = dict(check.files)
    elif check.content is not None:
        kwargs["content"] = check.content
    elif body is not None:
        kwargs["json"] = body
    client.cookies.clear()
    return client.request(method, _fill(world, template, role), **kwargs)


def _run(client: TestClient, world: World, routes: list[tuple[str, str]]) -> list[str]:
    problems = []
    for method, template in routes:
        table = MATRIX[(method, template)].expect
        for role in ROLES:
            response = _request(client, world, method, template, role)
            want = table[role]
            if response.status_code != want:
                problems.append(
                    f"{method} {template} as {role}: {response.status_code}, expected {want}"
                )
            if role not in ENTITLED and MARKER.encode() in response.content:
                problems.append(f"{method} {template} as {role}: A's data in the response")
    return problems


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every route of the API (from its schema) and of the console (HTML, not in the schema)."""
    spec = app.openapi()
    served = {(m.upper(), path) for path, item in spec["paths"].items() for m in item}
    console = [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/console/")
    ]
    served |= {(m, r.path) for r in console for m in r.methods if m != "HEAD"}
    return served


# --- A module-scoped database: the cast is built once --------------------------------------


def _module_database(template_db: str, folder: Path) -> Iterator[str]:
    if not PG_URL:
        target = folder / "matrix.db"
        target.write_bytes(Path(template_db).read_bytes())
        yield f"sqlite:///{target}"
        return
    name = f"chronicle_m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def matrix_app(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("matrix")
    databases = _module_database(template_db, folder)
    url = next(databases)
    settings = Settings(
        environment="test",
        data_dir=folder / "data",
        database_url=url,
        log_level="WARNING",
        registrations_per_address_per_hour=1000,  # every role registers, from one address
    )
    application = create_app(settings)
    yield application
    application.state.ctx.engine.dispose()
    next(databases, None)


@pytest.fixture(scope="module")
def matrix_client(matrix_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(matrix_app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def cast(matrix_app: FastAPI, matrix_client: TestClient) -> World:
    return build_world(matrix_app, matrix_client)


def test_every_route_is_in_the_matrix(matrix_app: FastAPI) -> None:
    served = _routes(matrix_app)
    assert sorted(served - set(MATRIX)) == [], "add these routes to MATRIX"
    assert sorted(set(MATRIX) - served) == [], "these MATRIX rows name no route"
    for check in MATRIX.values():
        assert set(check.expect) == set(ROLES)
    assert sorted(DESTROY_ORDER) == sorted(k for k, c in MATRIX.items() if c.phase == "destroy")


def test_every_route_answers_every_role_as_the_matrix_says(
    matrix_client: TestClient, cast: World
) -> None:
    reads = [key for key, check in MATRIX.items() if check.phase == "read"]
    writes = [key for key, check in MATRIX.items() if check.phase == "write"]
    problems = _run(matrix_client, cast, reads)
    problems += _run(matrix_client, cast, writes)
    problems += _run(matrix_client, cast, reads)  # the writes opened nothing new
    problems += _run(matrix_client, cast, DESTROY_ORDER)
    assert problems == [], json.dumps(problems, indent=1)


@pytest.mark.parametrize(
    "route", sorted(key for key, check in MATRIX.items() if check.phase == "own")
)
def test_routes_that_end_the_callers_sessions(
    matrix_app: FastAPI, matrix_client: TestClient, route: tuple[str, str]
) -> None:
    world = build_world(matrix_app, matrix_client)
    assert _run(matrix_client, world, [route]) == []


def test_the_matrix_roles_are_the_ones_the_issue_names() -> None:
    assert set(VICTIMS) | set(LIVE_CASEWORKERS) | set(DEAD_CASEWORKERS) | set(MANAGERS) == set(
        ACCOUNTS
    )
    assert set(STAFF) >= set(CASEWORKERS)
    assert len(ROLES) == 13
