"""Helpers for the diary tests: minimal valid bodies and request shortcuts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import User


def incident_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "occurred_at": "2024-03-01T20:05:00Z",
        "behaviours": ["loitering"],
        "description": "He was outside the flat again.",
    }
    body.update(overrides)
    return body


def full_incident_body(marker: str = "", **overrides: Any) -> dict[str, Any]:
    """Every field set; `marker` is put into every free-text field."""
    body: dict[str, Any] = {
        "occurred_at": "2024-03-01T20:05:00Z",
        "ended_at": "2024-03-01T20:35:00Z",
        "precision": "approximate",
        "behaviours": ["loitering", "following"],
        "via_third_party": True,
        "recorded_contemporaneously": False,
        "channel": "in_person",
        "platform": f"{marker}platform",
        "location": f"{marker}Outside 12 Elm Road",
        "coordinates": {"latitude": 51.5007, "longitude": -0.1246},
        "description": f"{marker}He waited by the bins for half an hour.",
        "impact": {
            "fear_of_violence": True,
            "alarm_or_distress": True,
            "daily_life_changes": ["changed_route", "extra_security"],
            "details": f"{marker}I now take the bus.",
        },
        "witnesses": f"{marker}My neighbour Sam",
        "reported_to_police": True,
        "police": {
            "references": [f"{marker}CRN-2024-001"],
            "officer": f"{marker}PC 1234 Jones",
            "outcome": f"{marker}Logged",
        },
        "evidence_ids": [],  # tests that link evidence upload it first (real ids only)
    }
    body.update(overrides)
    return body


def subject_body(marker: str = "", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"{marker}Mark",
        "relationship": "ex_partner",
        "description": f"{marker}Tall, grey coat",
        "addresses": [f"{marker}4 Oak Lane"],
        "vehicles": [f"{marker}Blue Ford AB12 CDE"],
        "online_accounts": [f"{marker}@mark_handle"],
        "orders": [
            {
                "kind": "restraining_order",
                "starts_on": "2024-01-10",
                "ends_on": "2026-01-10",
                "conditions": f"{marker}Not to contact her directly or indirectly",
                "reference": f"{marker}Court 22/123",
            },
            {
                "kind": "police_information_notice",
                "starts_on": "2023-11-02",
                "conditions": f"{marker}Warned about messages",
            },
        ],
    }
    body.update(overrides)
    return body


def create_incident(client: TestClient, user: User, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/incidents", json=incident_body(**overrides), headers=user.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_subject(client: TestClient, user: User, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/subjects", json=subject_body(**overrides), headers=user.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def with_etag(user: User, etag: str) -> dict[str, str]:
    return {**user.auth, "If-Match": etag}


def integrity(client: TestClient, user: User) -> dict[str, Any]:
    response = client.get("/v1/diary/integrity", headers=user.auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
