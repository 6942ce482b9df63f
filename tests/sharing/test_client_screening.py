"""A caseworker over the API: an incident's revisions (scope `diary`), the diary's S-DASH
suggestions and a screening recorded with the client (scope `assist`)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import User, new_user
from tests.diary.support import full_incident_body
from tests.sharing.support import World, grant, link_code

MARKER = "API-SCREENING-MARKER-81d2"


def _client(client: TestClient, world: World, scope: str) -> tuple[User, str, str]:
    victim = new_user(client)
    made = client.post("/v1/incidents", headers=victim.auth, json=full_incident_body(MARKER))
    assert made.status_code == 201, made.text
    incident = made.json()
    amended = client.patch(
        f"/v1/incidents/{incident['id']}",
        headers={**victim.auth, "If-Match": incident["etag"]},
        json={"location": "The car park"},
    )
    assert amended.status_code == 200, amended.text
    granted = grant(client, victim, link_code(client, world.caseworker), scope)
    return victim, granted["id"], incident["id"]


def test_a_diary_scope_reads_an_incidents_revisions_as_the_client_does(
    client: TestClient, world: World
) -> None:
    victim, client_id, incident_id = _client(client, world, "diary")
    path = f"/v1/clients/{client_id}/incidents/{incident_id}/revisions"
    theirs = client.get(path, headers=world.caseworker.auth)
    assert theirs.status_code == 200, theirs.text
    own = client.get(f"/v1/incidents/{incident_id}/revisions", headers=victim.auth)
    assert theirs.json() == own.json()
    assert [r["kind"] for r in theirs.json()["items"]] == ["created", "amended"]
    other = client.get(path, headers=world.caseworker_b.auth)
    assert other.status_code == 404 and MARKER not in other.text


def test_a_summary_scope_reads_no_revisions(client: TestClient, world: World) -> None:
    _victim, client_id, incident_id = _client(client, world, "summary")
    path = f"/v1/clients/{client_id}/incidents/{incident_id}/revisions"
    refused = client.get(path, headers=world.caseworker.auth)
    assert refused.status_code == 403 and MARKER not in refused.text


def test_an_assist_scope_sees_suggestions_and_records_a_screening_as_the_caseworker(
    client: TestClient, world: World
) -> None:
    victim, client_id, _incident_id = _client(client, world, "assist")
    auth = world.caseworker.auth
    found = client.get(f"/v1/clients/{client_id}/risk-assessments/suggestions", headers=auth)
    assert found.status_code == 200, found.text
    assert "q5" in [s["question_id"] for s in found.json()["suggestions"]]
    body = {"answers": {"q5": {"answer": "yes", "context": "Most nights"}}, "crime_reference": "X1"}
    made = client.post(f"/v1/clients/{client_id}/risk-assessments", headers=auth, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["answered_by"] == "caseworker"
    assert made.json()["answerer_name"] == "Sam Okafor, Safe Haven"
    listed = client.get("/v1/risk-assessments", headers=victim.auth).json()["items"]
    assert [a["id"] for a in listed] == [made.json()["id"]]
    trail = client.get("/v1/audit?action=risk_assessment.recorded", headers=victim.auth)
    assert [e["object"]["id"] for e in trail.json()["items"]] == [made.json()["id"]]


def test_a_screening_cannot_say_who_answered_or_ask_unknown_questions(
    client: TestClient, world: World
) -> None:
    _victim, client_id, _incident_id = _client(client, world, "assist")
    path = f"/v1/clients/{client_id}/risk-assessments"
    for body in (
        {"answers": {"q1": {"answer": "yes"}}, "answered_by": "victim"},
        {"answers": {"q99": {"answer": "yes"}}},
    ):
        assert client.post(path, headers=world.caseworker.auth, json=body).status_code == 422


def test_a_diary_scope_records_no_screening(client: TestClient, world: World) -> None:
    _victim, client_id, _incident_id = _client(client, world, "diary")
    auth = world.caseworker.auth
    body = {"answers": {"q1": {"answer": "yes"}}}
    made = client.post(f"/v1/clients/{client_id}/risk-assessments", headers=auth, json=body)
    assert made.status_code == 403
    found = client.get(f"/v1/clients/{client_id}/risk-assessments/suggestions", headers=auth)
    assert found.status_code == 403
