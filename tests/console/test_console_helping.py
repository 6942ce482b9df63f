"""The console's diary and helping pages over HTTP: an incident's revisions (scope `diary`),
an S-DASH screening recorded by the caseworker and an export prepared for the client (scope
`assist`). Each ends with the grant, and none opens for a narrower scope."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import User, new_user
from tests.console.support import csrf_of, post_form, sign_in
from tests.diary.support import full_incident_body
from tests.sharing.support import World, grant, link_code, past, set_column

MARKER = "HELPING-MARKER-3c9f"


def _setup(
    app: FastAPI, client: TestClient, world: World, scope: str
) -> tuple[User, str, str, TestClient]:
    """A client with one incident (amended once), granted at `scope`; the caseworker signed in."""
    victim = new_user(client)
    created = client.post("/v1/incidents", headers=victim.auth, json=full_incident_body(MARKER))
    assert created.status_code == 201, created.text
    incident = created.json()
    amended = client.patch(
        f"/v1/incidents/{incident['id']}",
        headers={**victim.auth, "If-Match": incident["etag"]},
        json={"description": f"{MARKER} He waited by the bins, then followed me home."},
    )
    assert amended.status_code == 200, amended.text
    granted = grant(client, victim, link_code(client, world.caseworker, "H. ref 7"), scope)
    browser = TestClient(app, raise_server_exceptions=False)
    assert sign_in(browser, world.caseworker).status_code == 303
    return victim, granted["id"], incident["id"], browser


def _trail(client: TestClient, victim: User, action: str) -> list[dict[str, Any]]:
    events = client.get(f"/v1/audit?action={action}", headers=victim.auth)
    assert events.status_code == 200, events.text
    return list(events.json()["items"])


def test_an_incidents_revisions_show_number_uk_time_and_what_changed(
    app: FastAPI, client: TestClient, world: World
) -> None:
    victim, client_id, incident_id, browser = _setup(app, client, world, "diary")
    listed = browser.get(f"/console/clients/{client_id}/incidents")
    assert listed.status_code == 200, listed.text
    history = f"/console/clients/{client_id}/incidents/{incident_id}/revisions"
    assert f'href="{history}"' in listed.text and "History: 2 revisions" in listed.text
    page = browser.get(history)
    assert page.status_code == 200, page.text
    assert "Revision 1: Written" in page.text and "Revision 2: Amended" in page.text
    assert re.search(r"Recorded \d{1,2} \w+ \d{4}, \d\d:\d\d (GMT|BST)", page.text)
    second = page.text[page.text.index('id="revision-2"') :]
    changed = re.findall(r"<dt>([^<]+)</dt>", second)
    assert changed == ["In the client&#39;s words"]  # only the description changed
    assert "then followed me home." in second
    viewed = [e["object"] for e in _trail(client, victim, "incidents.viewed")]
    assert {"type": "incident", "id": incident_id} in viewed


def test_another_clients_incident_has_no_revisions_page(
    app: FastAPI, client: TestClient, world: World
) -> None:
    _victim, client_id, _incident_id, browser = _setup(app, client, world, "diary")
    other = new_user(client)
    body = full_incident_body(MARKER)
    other_incident = client.post("/v1/incidents", headers=other.auth, json=body).json()["id"]
    grant(client, other, link_code(client, world.caseworker), "diary")  # also this caseworker's
    page = browser.get(f"/console/clients/{client_id}/incidents/{other_incident}/revisions")
    assert page.status_code == 404 and MARKER not in page.text


def test_a_screening_shows_the_diarys_suggestions_and_is_saved_as_the_caseworkers(
    app: FastAPI, client: TestClient, world: World
) -> None:
    victim, client_id, _incident_id, browser = _setup(app, client, world, "assist")
    path = f"/console/clients/{client_id}/screening"
    form = browser.get(path)
    assert form.status_code == 200, form.text
    assert "The diary suggests: yes." in form.text and 'id="q5-suggestion"' in form.text
    assert "checked" not in form.text  # suggestions are never answers
    empty = browser.post(path, data={"csrf": csrf_of(form.text)})
    assert empty.status_code == 422 and "at least one question" in empty.text
    saved = post_form(
        browser, path, path, q1="yes", q5="yes", **{"q5-context": "Most evenings"}, q10="unknown"
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/console/clients/{client_id}#screening"
    shown = browser.get(saved.headers["location"]).text
    assert "answered by a caseworker (Sam Okafor, Safe Haven)" in shown
    [assessment] = client.get("/v1/risk-assessments", headers=victim.auth).json()["items"]
    assert assessment["answered_by"] == "caseworker"
    assert assessment["answerer_name"] == "Sam Okafor, Safe Haven"
    assert assessment["answers"] == {
        "q1": {"answer": "yes", "context": None},
        "q5": {"answer": "yes", "context": "Most evenings"},
        "q10": {"answer": "unknown", "context": None},
    }
    [recorded] = _trail(client, victim, "risk_assessment.recorded")
    assert recorded["actor"]["kind"] == "caseworker"
    assert recorded["object"] == {"type": "risk_assessment", "id": assessment["id"]}
    assert _trail(client, victim, "chronology.viewed")  # reading the suggestions is recorded


def test_a_bad_screening_answer_is_refused(app: FastAPI, client: TestClient, world: World) -> None:
    victim, client_id, _incident_id, browser = _setup(app, client, world, "assist")
    path = f"/console/clients/{client_id}/screening"
    refused = post_form(browser, path, path, q1="perhaps")
    assert refused.status_code == 422
    assert client.get("/v1/risk-assessments", headers=victim.auth).json()["items"] == []


def _wait_for_done(browser: TestClient, path: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = browser.get(path).text
        if "status-done" in page or "status-failed" in page:
            return page
        time.sleep(0.1)
    raise AssertionError("the export is still not made")


def test_an_export_prepared_for_the_client_shows_its_state_and_is_theirs(
    app: FastAPI, client: TestClient, world: World
) -> None:
    victim, client_id, _incident_id, browser = _setup(app, client, world, "assist")
    path = f"/console/clients/{client_id}/exports"
    form = browser.get(path)
    assert form.status_code == 200 and "You have not prepared an export" in form.text
    fields = {
        "csrf": csrf_of(form.text),
        "form_id": re.findall(r'name="form_id" value="([^"]+)"', form.text)[0],
        "format": "pdf",
        "include_evidence": "yes",
        "identification": "46/123/26",
    }
    made = browser.post(path, data=fields, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == path + "#prepared"
    again = browser.post(path, data=fields, follow_redirects=False)  # the form sent twice
    assert again.status_code == 303
    page = _wait_for_done(browser, path)
    assert "Ready: the client can download it in their app" in page and "46/123/26" in page
    [job] = client.get("/v1/exports", headers=victim.auth).json()["items"]
    assert job["status"] == "done" and job["prepared_by"]["kind"] == "caseworker"
    assert job["prepared_by"]["id"] == str(
        client.get(f"/v1/grants/{client_id}", headers=victim.auth).json()["id"]
    )
    created = _trail(client, victim, "export.created")
    assert [e["object"] for e in created] == [{"type": "export", "id": job["id"]}]


def test_an_export_form_without_a_format_is_refused(
    app: FastAPI, client: TestClient, world: World
) -> None:
    victim, client_id, _incident_id, browser = _setup(app, client, world, "assist")
    path = f"/console/clients/{client_id}/exports"
    assert post_form(browser, path, path, format="docx").status_code == 422
    assert client.get("/v1/exports", headers=victim.auth).json()["items"] == []


PAGES = ["/incidents", "/incidents/{incident}/revisions", "/screening", "/exports"]


@pytest.mark.parametrize("path", PAGES)
def test_a_summary_scope_cannot_open_the_diary_and_helping_pages(
    app: FastAPI, client: TestClient, world: World, path: str
) -> None:
    _victim, client_id, incident_id, browser = _setup(app, client, world, "summary")
    page = browser.get(f"/console/clients/{client_id}" + path.format(incident=incident_id))
    assert page.status_code == 403 and MARKER not in page.text
    assert "Outside the client" in page.text


@pytest.mark.parametrize("path", ["/screening", "/exports"])
def test_a_diary_scope_cannot_post_a_screening_or_an_export(
    app: FastAPI, client: TestClient, world: World, path: str
) -> None:
    victim, client_id, _incident_id, browser = _setup(app, client, world, "diary")
    token = csrf_of(browser.get("/console/clients").text)
    fields = {"csrf": token, "q1": "yes", "format": "pdf"}
    posted = browser.post(f"/console/clients/{client_id}{path}", data=fields)
    assert posted.status_code == 403 and MARKER not in posted.text
    assert client.get("/v1/risk-assessments", headers=victim.auth).json()["items"] == []
    assert client.get("/v1/exports", headers=victim.auth).json()["items"] == []


@pytest.mark.parametrize("ending", ["revoked", "expired"])
@pytest.mark.parametrize("path", PAGES)
def test_an_ended_grant_ends_the_diary_and_helping_pages_on_the_next_load(
    app: FastAPI, client: TestClient, world: World, path: str, ending: str
) -> None:
    victim, client_id, incident_id, browser = _setup(app, client, world, "assist")
    url = f"/console/clients/{client_id}" + path.format(incident=incident_id)
    assert browser.get(url).status_code == 200
    if ending == "revoked":
        assert client.delete(f"/v1/grants/{client_id}", headers=victim.auth).status_code == 204
    else:
        set_column(app, "consent_grants", client_id, expires_at=past())
    ended = browser.get(url)
    assert ended.status_code == 404
    assert "Access to this client has ended" in ended.text and MARKER not in ended.text
