"""The caseworker console over HTTP: sign-in, the cookie, CSRF, clients, a client, scopes."""

from __future__ import annotations

import re

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.models import AccessToken
from tests.conftest import PASSWORD, User, new_user
from tests.console.support import csrf_of, next_code, post_form, sign_in
from tests.diary.support import full_incident_body
from tests.sharing.support import World, grant, invite, link_code, past, set_column

MARKER = "CONSOLE-MARKER-5d1e"


def _signed_in(app: FastAPI, world: World) -> TestClient:
    browser = TestClient(app, raise_server_exceptions=False)
    assert sign_in(browser, world.caseworker).status_code == 303
    return browser


def _client_with_diary(client: TestClient, world: World, scope: str = "assist") -> tuple[User, str]:
    victim = new_user(client)
    body = full_incident_body(MARKER)
    created = client.post("/v1/incidents", headers=victim.auth, json=body)
    assert created.status_code == 201, created.text
    granted = grant(client, victim, link_code(client, world.caseworker, "J. ref 113"), scope)
    return victim, granted["id"]


def test_sign_in_sets_a_strict_http_only_cookie_listed_among_the_sessions(
    app: FastAPI, client: TestClient, world: World
) -> None:
    browser = TestClient(app, raise_server_exceptions=False)
    signed = sign_in(browser, world.caseworker)
    assert signed.status_code == 303 and signed.headers["location"] == "/console/"
    cookie = next(
        c for c in signed.headers.get_list("set-cookie") if c.startswith("chronicle_console=")
    )
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/console" in flags
    assert "secure" not in flags  # plain HTTP in the test; see the HTTPS test below
    sessions = client.get("/v1/sessions", headers=world.caseworker.auth).json()["items"]
    assert len(sessions) == 2  # the API login of the fixture and the console's
    page = browser.get("/console/clients")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_cookie_is_secure_over_https(app: FastAPI, world: World) -> None:
    browser = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    signed = sign_in(browser, world.caseworker)
    assert signed.status_code == 303
    cookie = next(
        c for c in signed.headers.get_list("set-cookie") if c.startswith("chronicle_console=")
    )
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_a_wrong_code_and_an_unknown_user_get_the_same_answer(app: FastAPI, world: World) -> None:
    browser = TestClient(app, raise_server_exceptions=False)
    wrong = sign_in(browser, world.caseworker, code="000000")
    assert wrong.status_code == 401
    form = browser.get("/console/sign-in")
    body = {"username": "nobody-1234", "password": PASSWORD, "code": "123456"}
    unknown = browser.post("/console/sign-in", data={**body, "csrf": csrf_of(form.text)})
    assert unknown.status_code == 401
    said = re.compile(r'role="alert">([^<]*)<')
    assert said.findall(wrong.text) == said.findall(unknown.text)
    assert said.findall(wrong.text) == ["The username, password or code is not correct."]


def test_repeated_failures_back_off_as_the_api_does(app: FastAPI, world: World) -> None:
    browser = TestClient(app, raise_server_exceptions=False)
    statuses = [sign_in(browser, world.caseworker, code="000000").status_code for _ in range(12)]
    assert statuses[0] == 401 and statuses[-1] == 429


def test_a_cross_site_post_is_refused(app: FastAPI, world: World) -> None:
    browser = _signed_in(app, world)
    token = csrf_of(browser.get("/console/clients").text)
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = browser.post("/console/clients/link-codes", data={"csrf": token}, headers=headers)
        assert refused.status_code == 403
        assert "sent from another site" in refused.text
    no_token = browser.post("/console/clients/link-codes", data={"label": "x"})
    assert no_token.status_code == 403
    same = browser.post(
        "/console/clients/link-codes",
        data={"csrf": token},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200


def test_a_sign_in_post_without_its_form_token_is_refused(app: FastAPI, world: World) -> None:
    browser = TestClient(app, raise_server_exceptions=False)
    assert world.caseworker.totp is not None
    body = {
        "username": world.caseworker.user.username,
        "password": PASSWORD,
        "code": next_code(world.caseworker),
    }
    refused = browser.post("/console/sign-in", data=body, follow_redirects=False)
    assert refused.status_code == 403
    assert "chronicle_console=" not in refused.headers.get("set-cookie", "")


def test_sign_out_ends_the_session_on_the_server_and_clears_the_site(
    app: FastAPI, client: TestClient, world: World
) -> None:
    browser = _signed_in(app, world)
    cookie = browser.cookies.get("chronicle_console")
    out = post_form(browser, "/console/clients", "/console/sign-out")
    assert out.status_code == 303
    assert out.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    stale = TestClient(app, raise_server_exceptions=False)
    stale.cookies.set("chronicle_console", cookie or "", path="/console")
    again = stale.get("/console/clients", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/console/sign-in"
    sessions = client.get("/v1/sessions", headers=world.caseworker.auth).json()["items"]
    assert len(sessions) == 1


def test_a_session_revoked_from_the_session_list_ends_at_once(
    app: FastAPI, client: TestClient, world: World
) -> None:
    browser = _signed_in(app, world)
    sessions = client.get("/v1/sessions", headers=world.caseworker.auth).json()["items"]
    console = next(s for s in sessions if not s["current"])
    ended = client.delete(f"/v1/sessions/{console['id']}", headers=world.caseworker.auth)
    assert ended.status_code == 204
    page = browser.get("/console/clients", follow_redirects=False)
    assert page.status_code == 303


def test_an_idle_session_ends(app: FastAPI, world: World) -> None:
    browser = _signed_in(app, world)
    with app.state.ctx.engine.begin() as conn:
        conn.execute(update(AccessToken).values(expires_at=past()))
    page = browser.get("/console/clients", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console/sign-in"


def test_the_clients_list_and_a_new_link_code(
    app: FastAPI, client: TestClient, world: World
) -> None:
    _client_with_diary(client, world)
    browser = _signed_in(app, world)
    page = browser.get("/console/clients")
    assert "J. ref 113" in page.text and "the diary and evidence, and helping" in page.text
    assert "No entries yet" not in page.text
    made = post_form(browser, "/console/clients", "/console/clients/link-codes", label="K")
    assert made.status_code == 200
    code = re.search(r'id="link-code"><code>([^<]+)<', made.text)
    assert code is not None
    victim = new_user(client)
    granted = grant(client, victim, code.group(1), "summary")
    assert granted["status"] == "active"
    assert "the summary only" in browser.get("/console/clients").text


def test_a_client_page_shows_the_chronology_notes_and_takes_a_draft(
    app: FastAPI, client: TestClient, world: World
) -> None:
    victim, client_id = _client_with_diary(client, world)
    browser = _signed_in(app, world)
    path = f"/console/clients/{client_id}"
    page = browser.get(path)
    assert page.status_code == 200, page.text
    assert MARKER in page.text and 'id="risk"' in page.text and 'id="timeline"' in page.text
    noted = post_form(browser, path, path + "/notes", text="Called her back; safety plan.")
    assert noted.status_code == 303
    assert "Called her back; safety plan." in browser.get(path).text
    notes = client.get("/v1/caseworker-notes", headers=victim.auth).json()["items"]
    assert any(n["text"] == "Called her back; safety plan." for n in notes)
    drafted = post_form(
        browser,
        path + "/draft",
        path + "/draft",
        occurred_at="2024-06-01T21:30",
        behaviours="loitering",
        description="He waited at the bus stop.",
    )
    assert drafted.status_code == 303, drafted.text
    page = browser.get(path).text
    assert "He waited at the bus stop." in page and "Drafted on the victim" in page
    drafts = client.get("/v1/incident-drafts", headers=victim.auth).json()["items"]
    assert len(drafts) == 1


def test_a_revoked_grant_says_access_has_ended_on_the_next_page_load(
    app: FastAPI, client: TestClient, world: World
) -> None:
    victim, client_id = _client_with_diary(client, world)
    browser = _signed_in(app, world)
    assert browser.get(f"/console/clients/{client_id}").status_code == 200
    assert client.delete(f"/v1/grants/{client_id}", headers=victim.auth).status_code == 204
    ended = browser.get(f"/console/clients/{client_id}")
    assert ended.status_code == 404
    assert "Access to this client has ended" in ended.text and MARKER not in ended.text


def test_an_expired_grant_says_access_has_ended(
    app: FastAPI, client: TestClient, world: World
) -> None:
    _victim, client_id = _client_with_diary(client, world)
    browser = _signed_in(app, world)
    set_column(app, "consent_grants", client_id, expires_at=past())
    assert "Access to this client has ended" in browser.get(f"/console/clients/{client_id}").text


@pytest.mark.parametrize("path", ["", "/evidence", "/draft"])
def test_a_summary_scope_shows_no_diary_words(
    app: FastAPI, client: TestClient, world: World, path: str
) -> None:
    _victim, client_id = _client_with_diary(client, world, "summary")
    browser = _signed_in(app, world)
    page = browser.get(f"/console/clients/{client_id}{path}")
    assert MARKER not in page.text
    if path:
        assert page.status_code == 403  # outside the consent: evidence and drafting
    else:
        assert page.status_code == 200 and 'id="timeline"' in page.text


def test_another_caseworkers_client_is_access_ended_not_forbidden(
    app: FastAPI, client: TestClient, world: World
) -> None:
    _victim, client_id = _client_with_diary(client, world)
    other = TestClient(app, raise_server_exceptions=False)
    assert sign_in(other, world.caseworker_b).status_code == 303
    page = other.get(f"/console/clients/{client_id}")
    assert page.status_code == 404 and MARKER not in page.text


def test_an_org_admin_invites_sees_2fa_and_removes_a_member_whose_sessions_end(
    app: FastAPI, client: TestClient, world: World
) -> None:
    admin = TestClient(app, raise_server_exceptions=False)
    assert sign_in(admin, world.org_admin).status_code == 303
    page = admin.get("/console/organisation")
    assert page.status_code == 200 and "Sam Okafor" in page.text and "Jo Bright" in page.text
    made = post_form(
        admin, "/console/organisation", "/console/organisation/invitations", role="caseworker"
    )
    code = re.search(r'id="invitation-code"><code>([^<]+)<', made.text)
    assert code is not None
    body = {"code": code.group(1), "username": "new-cw", "password": PASSWORD}
    joined = client.post("/v1/invitations/accept", json={**body, "display_name": "New Person"})
    assert joined.status_code == 201, joined.text
    listed = admin.get("/console/organisation").text
    assert "New Person" in listed and "Not turned on yet" in listed
    caseworker = _signed_in(app, world)
    member_id = client.get("/v1/me", headers=world.caseworker.auth).json()["id"]
    removed = post_form(
        admin, "/console/organisation", f"/console/organisation/members/{member_id}/remove"
    )
    assert removed.status_code == 303
    assert caseworker.get("/console/clients", follow_redirects=False).status_code == 303
    assert client.get("/v1/me", headers=world.caseworker.auth).status_code == 401
    assert "Sam Okafor" not in admin.get("/console/organisation").text


def test_a_caseworker_cannot_open_the_organisation_page(app: FastAPI, world: World) -> None:
    browser = _signed_in(app, world)
    assert browser.get("/console/organisation").status_code == 403


def test_an_invited_caseworker_joins_turns_on_2fa_and_is_held_to_it(
    app: FastAPI, client: TestClient, world: World
) -> None:
    code = invite(client, world.org_admin, world.org["id"], "caseworker")
    browser = TestClient(app, raise_server_exceptions=False)
    fields = {"code": code, "display_name": "Robin Hale", "username": "robin", "password": PASSWORD}
    joined = post_form(browser, "/console/join", "/console/join", **fields)
    assert joined.status_code == 200, joined.text
    found = re.search(r'id="username"><code>([^<]+)<', joined.text)
    assert found is not None
    again = post_form(browser, "/console/join", "/console/join", **fields)
    assert again.status_code == 422  # the code worked once
    form = browser.get("/console/sign-in")
    body = {"username": found.group(1), "password": PASSWORD, "csrf": csrf_of(form.text)}
    signed = browser.post("/console/sign-in", data=body, follow_redirects=True)
    assert signed.url.path == "/console/two-factor"
    # Without 2FA nothing of the console opens, only the enrolment.
    held = browser.get("/console/clients", follow_redirects=False)
    assert held.status_code == 303 and held.headers["location"] == "/console/two-factor"
    started = post_form(browser, "/console/two-factor", "/console/two-factor/start")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text)
    assert secret is not None
    wrong = browser.post(
        "/console/two-factor/confirm",
        data={"csrf": csrf_of(started.text), "code": "000000"},
        follow_redirects=False,
    )
    assert wrong.status_code == 422
    started = post_form(browser, "/console/two-factor", "/console/two-factor/start")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text)
    assert secret is not None
    confirmed = browser.post(
        "/console/two-factor/confirm",
        data={"csrf": csrf_of(started.text), "code": pyotp.TOTP(secret.group(1)).now()},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    assert browser.get("/console/clients").status_code == 200


def test_the_sessions_page_lists_and_ends_sessions(
    app: FastAPI, client: TestClient, world: World
) -> None:
    browser = _signed_in(app, world)
    page = browser.get("/console/sessions")
    assert page.status_code == 200 and "This browser" in page.text
    api_session = world.caseworker.user.session_id
    ended = post_form(browser, "/console/sessions", f"/console/sessions/{api_session}/end")
    assert ended.status_code == 303
    assert client.get("/v1/me", headers=world.caseworker.auth).status_code == 401
    assert browser.get("/console/clients").status_code == 200
