"""GET /v1/chronology: the summary of the caller's own diary, through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import User
from tests.diary.support import incident_body, subject_body


def _incident(client: TestClient, user: User, **fields: Any) -> str:
    response = client.post("/v1/incidents", json=incident_body(**fields), headers=user.auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _diary(client: TestClient, user: User) -> tuple[str, list[str]]:
    subject = client.post("/v1/subjects", json=subject_body(), headers=user.auth).json()["id"]
    ids = [
        _incident(client, user, occurred_at="2024-03-01T20:05:00Z", behaviours=["contacting"],
                  channel="text_message", subject_ids=[subject]),
        _incident(client, user, occurred_at="2024-03-04T08:00:00Z", behaviours=["loitering"],
                  subject_ids=[subject]),
        _incident(client, user, occurred_at="2024-03-09T22:10:00Z",
                  behaviours=["threat_to_kill"], subject_ids=[subject],
                  impact={"fear_of_violence": True}),
    ]  # fmt: skip
    return subject, ids


def test_chronology_names_the_course_of_conduct_with_its_incidents(
    client: TestClient, alice: User
) -> None:
    subject, ids = _diary(client, alice)
    response = client.get("/v1/chronology", headers=alice.auth)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    summary = response.json()
    assert [entry["incident_id"] for entry in summary["timeline"]] == ids
    course = [c for c in summary["course_of_conduct"] if c["subject_id"] == subject]
    assert course and course[0]["met"] is True
    assert set(course[0]["statement"]["incident_ids"]) <= set(ids)
    stalking = [o for o in summary["offences"] if o["code"] == "stalking"]
    assert stalking and stalking[0]["indicated"] is True
    assert stalking[0]["law"] == "PHA 1997 s.2A"
    assert summary["jurisdiction"] == "england_wales"
    assert summary["disclaimer"]


def test_chronology_filters_like_the_incident_list(client: TestClient, alice: User) -> None:
    _, ids = _diary(client, alice)
    response = client.get(
        "/v1/chronology",
        params={"from": "2024-03-03T00:00:00Z", "behaviour": "loitering"},
        headers=alice.auth,
    )
    assert [entry["incident_id"] for entry in response.json()["timeline"]] == [ids[1]]
    bad = client.get("/v1/chronology", params={"behaviour": "nonsense"}, headers=alice.auth)
    assert bad.status_code == 422
    naive = client.get("/v1/chronology", params={"from": "2024-03-03T00:00:00"},
                       headers=alice.auth)  # fmt: skip
    assert naive.status_code == 422


def test_chronology_is_only_ever_the_callers_own(
    client: TestClient, alice: User, bob: User
) -> None:
    subject, _ = _diary(client, alice)
    mine = client.get("/v1/chronology", headers=bob.auth).json()
    assert mine["timeline"] == [] and mine["period"]["incident_count"] == 0
    theirs = client.get("/v1/chronology", params={"subject_id": subject}, headers=bob.auth)
    assert theirs.json()["timeline"] == []


def test_chronology_uses_the_accounts_jurisdiction(client: TestClient, alice: User) -> None:
    _diary(client, alice)
    client.patch("/v1/me", json={"jurisdiction": "scotland"}, headers=alice.auth)
    summary = client.get("/v1/chronology", headers=alice.auth).json()
    assert summary["jurisdiction"] == "scotland"
    stalking = [o for o in summary["offences"] if o["code"] == "stalking"]
    assert stalking and "s.39" in stalking[0]["law"]


def test_chronology_needs_a_token(client: TestClient) -> None:
    response = client.get("/v1/chronology")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
