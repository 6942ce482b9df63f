"""Helpers for officer shares and caseworker reads: a small diary, shares, the viewer."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import User
from tests.diary.support import incident_body, subject_body
from tests.sharing.support import in_days

TOKEN_IN_URL = re.compile(r"/s/(chs_[A-Za-z0-9_-]+)$")
PASSCODE = "blue-heron-42"


def add_subject(client: TestClient, victim: User, marker: str = "") -> str:
    response = client.post("/v1/subjects", headers=victim.auth, json=subject_body(marker))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def add_incident(client: TestClient, victim: User, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/incidents", headers=victim.auth, json=incident_body(**fields))
    assert response.status_code == 201, response.text
    return dict(response.json())


def small_diary(client: TestClient, victim: User, marker: str) -> dict[str, Any]:
    """Three incidents about one subject over three weeks, each carrying `marker`."""
    subject = add_subject(client, victim, marker)
    incidents = [
        add_incident(
            client,
            victim,
            occurred_at=f"2024-03-{day:02d}T20:05:00Z",
            behaviours=behaviours,
            subject_ids=[subject],
            description=f"{marker} {text}",
            impact={"fear_of_violence": fear},
        )
        for day, behaviours, text, fear in (
            (1, ["loitering"], "He was outside the flat again.", False),
            (9, ["contacting", "threat_of_violence"], "Twelve texts; he said I'd regret it.", True),
            (20, ["turning_up_at_work"], "He waited at the staff entrance.", True),
        )
    ]
    return {"subject": subject, "incidents": incidents}


def share_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recipient_name": "PC Jane Smith",
        "force": "Kent Police",
        "crime_reference": "46/12345/24",
        "expires_at": in_days(14),
    }
    body.update(overrides)
    return body


def create_share(client: TestClient, victim: User, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/shares", headers=victim.auth, json=share_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def token_of(share: dict[str, Any]) -> str:
    found = TOKEN_IN_URL.search(share["url"])
    assert found, share["url"]
    assert found.group(1) == share["token"]
    return found.group(1)


def enter_passcode(client: TestClient, token: str, passcode: str = PASSCODE) -> Any:
    return client.post(f"/s/{token}", data={"passcode": passcode}, follow_redirects=False)
