"""Authorization: scope is about content, not only routes (TESTING.md).

A marker is planted in every field the victim writes; a `summary`-scope caseworker finds none of
them in anything it can reach, while a `diary`-scope caseworker does (so the check can fail).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.main import ROUTERS
from app.sharing.scopes import SCOPES, scope_needed
from tests.conftest import User
from tests.diary.support import full_incident_body, subject_body
from tests.evidence.support import jpeg_with_exif, multipart
from tests.sharing.support import World, grant, link_code

MARK = "ZQXMARK"


def _plant_everything(client: TestClient, victim: User) -> dict[str, str]:
    """A diary with the marker in every free-text field, and the ids a caseworker might ask for."""
    subject = client.post("/v1/subjects", json=subject_body(MARK), headers=victim.auth)
    assert subject.status_code == 201, subject.text
    subject_id = subject.json()["id"]
    ids: dict[str, str] = {"subject_id": subject_id}
    for day in ("01", "08", "15", "22"):
        body = full_incident_body(
            MARK,
            occurred_at=f"2024-03-{day}T20:05:00Z",
            ended_at=f"2024-03-{day}T20:35:00Z",
            subject_ids=[subject_id],
            behaviours=["loitering", "following", "threat_of_violence"],
        )
        created = client.post("/v1/incidents", json=body, headers=victim.auth)
        assert created.status_code == 201, created.text
        ids["incident_id"] = created.json()["id"]
    evidence = multipart(
        client,
        victim.auth,
        jpeg_with_exif(),
        name=f"{MARK}photo.jpg",
        fields={"caption": f"{MARK}caption", "incident_ids": [ids["incident_id"]]},
    )
    assert evidence.status_code == 201, evidence.text
    ids["evidence_id"] = evidence.json()["id"]
    answers = {q: {"answer": "yes", "context": f"{MARK}context {q}"} for q in ("q1", "q2", "q5")}
    screening = {
        "answered_by": "victim",
        "answerer_name": f"{MARK}answerer",
        "crime_reference": f"{MARK}CRN",
        "subject_id": subject_id,
        "answers": answers,
    }
    risk = client.post("/v1/risk-assessments", json=screening, headers=victim.auth)
    assert risk.status_code == 201, risk.text
    return ids


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    # FastAPI keeps an included router's routes behind `original_router` (none here has a prefix).
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found


def _client_routes() -> list[APIRoute]:
    routes = [
        route
        for router in ROUTERS
        for route in _api_routes(router.routes)
        if route.path.startswith("/v1/clients")
    ]
    assert len(routes) >= 13
    return routes


def _everything_reachable(
    app: FastAPI, client: TestClient, auth: dict[str, str], client_id: str, ids: dict[str, str]
) -> str:
    """Every GET under /v1/clients with real ids filled in, and the chronology filtered too."""
    seen = []
    for route in _client_routes():
        if "GET" not in route.methods:
            continue
        path = route.path.format(client_id=client_id, export_id=ids["incident_id"], **ids)
        seen.append(client.get(path, headers=auth).text)
    for query in (f"subject_ids={ids['subject_id']}", "behaviours=following"):
        seen.append(client.get(f"/v1/clients/{client_id}/chronology?{query}", headers=auth).text)
    return "\n".join(seen)


def test_scope_is_about_content_a_summary_grant_shows_none_of_the_victims_words(
    app: FastAPI, client: TestClient, world: World, alice: User
) -> None:
    ids = _plant_everything(client, alice)
    cw = world.caseworker.auth
    summary_id = grant(client, alice, link_code(client, world.caseworker), scope="summary")["id"]
    diary_id = grant(client, alice, link_code(client, world.caseworker_b), scope="diary")["id"]

    seen = _everything_reachable(app, client, cw, summary_id, ids)
    assert MARK not in seen
    # "Mark" is the subject's name: people are "Person 1" under a summary grant.
    assert not re.search(r"\bMark\b", seen)

    chronology = client.get(f"/v1/clients/{summary_id}/chronology", headers=cw).json()
    assert chronology["withheld"]
    assert chronology["period"]["incident_count"] == 4
    assert {b["code"] for b in chronology["timeline"][0]["behaviours"]} >= {"following"}
    assert chronology["subjects"][0]["label"] == "Person 1"
    assert chronology["subjects"][0]["orders"][0]["kind"]["code"] == "restraining_order"
    assert chronology["police_reports"]["reports"], "having reported stays a yes/no"
    latest = chronology["risk_screening"]["latest"]
    assert latest["answers"]["q1"] == {"answer": "yes", "context": None}
    assert any(m["incident_ids"] for m in chronology["risk_markers"])

    # The control: the same reads under a diary grant carry the words, so the check can fail.
    wide = _everything_reachable(app, client, world.caseworker_b.auth, diary_id, ids)
    for planted in (
        "platform",
        "Outside 12 Elm Road",
        "My neighbour Sam",
        "CRN-2024-001",
        "Mark",
        "Not to contact her",
        "context q1",
        "answerer",
        "caption",
        "photo",
    ):
        assert f"{MARK}{planted}" in wide, planted


def test_the_scope_table_names_exactly_the_scope_each_client_route_asks_for(app: FastAPI) -> None:
    for route in _client_routes():
        if route.path == "/v1/clients":
            continue  # the caseworker's own list of grants, not one client's data
        asked: list[Any] = [
            d.call.scope  # type: ignore[attr-defined]
            for d in route.dependant.dependencies
            if d.call is not None and hasattr(d.call, "scope")
        ]
        assert asked == [scope_needed(str(route.operation_id))], route.operation_id
    assert [rule.rank for rule in SCOPES.values()] == [1, 2, 3]
    assert not SCOPES["summary"].words and SCOPES["diary"].words
