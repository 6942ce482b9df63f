"""The diary as facts for the chronology, and the public taxonomy."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.chronology.codes import TAXONOMY_VERSION, taxonomy_document
from app.chronology.model import IncidentFacts, Order, SubjectFacts
from app.diary.facts import load_facts
from app.diary.filters import IncidentFilters
from app.security.keys import load_data_key
from tests.conftest import User
from tests.diary.support import (
    create_incident,
    create_subject,
    full_incident_body,
    subject_body,
    with_etag,
)
from tests.evidence.support import new_evidence


def test_the_taxonomy_is_public_and_versioned(client: TestClient) -> None:
    response = client.get("/v1/taxonomy")
    assert response.status_code == 200
    assert response.json() == taxonomy_document()
    assert response.json()["version"] == TAXONOMY_VERSION


def test_every_subject_route_needs_a_token(client: TestClient) -> None:
    url = "/v1/subjects/0b7e8f4c-6a2d-4c1e-8f3a-9d5b2e1c7a64"
    for method, path in (
        ("POST", "/v1/subjects"),
        ("GET", "/v1/subjects"),
        ("GET", url),
        ("PATCH", url),
        ("DELETE", url),
        ("GET", f"{url}/revisions"),
    ):
        body = subject_body() if method in ("POST", "PATCH") else None
        assert client.request(method, path, json=body).status_code == 401, (method, path)


def test_load_facts_gives_the_current_live_diary(
    app: FastAPI, client: TestClient, alice: User, bob: User
) -> None:
    subject = client.post("/v1/subjects", json=subject_body(), headers=alice.auth).json()
    sent = full_incident_body(
        subject_ids=[subject["id"]], evidence_ids=[new_evidence(client, alice.auth)]
    )
    entry = client.post("/v1/incidents", json=sent, headers=alice.auth).json()
    amended = client.patch(
        f"/v1/incidents/{entry['id']}",
        json={"description": "Amended words"},
        headers=with_etag(alice, entry["etag"]),
    ).json()
    later = create_incident(client, alice, occurred_at="2024-04-01T09:00:00Z")
    withdrawn = create_incident(client, alice)
    client.delete(f"/v1/incidents/{withdrawn['id']}", headers=with_etag(alice, withdrawn["etag"]))
    create_incident(client, bob)
    create_subject(client, bob)

    ctx = app.state.ctx
    with ctx.sessionmaker() as session:
        account_id = uuid.UUID(client.get("/v1/me", headers=alice.auth).json()["id"])
        key = load_data_key(session, ctx.keyring, account_id)
        incidents, subjects = load_facts(session, key, account_id, IncidentFilters())
        only_later, _ = load_facts(
            session,
            key,
            account_id,
            IncidentFilters(occurred_from=datetime(2024, 3, 15, tzinfo=UTC)),
        )

    assert [i.id for i in only_later] == [uuid.UUID(later["id"])]
    assert [i.id for i in incidents] == [uuid.UUID(entry["id"]), uuid.UUID(later["id"])]
    assert incidents[0] == IncidentFacts(
        id=uuid.UUID(entry["id"]),
        occurred_at=datetime(2024, 3, 1, 20, 5, tzinfo=UTC),
        precision="approximate",
        recorded_at=datetime.fromisoformat(entry["recorded_at"]),
        behaviours=("following", "loitering"),
        subject_ids=(uuid.UUID(subject["id"]),),
        ended_at=datetime(2024, 3, 1, 20, 35, tzinfo=UTC),
        recorded_contemporaneously=False,
        via_third_party=True,
        channel="in_person",
        platform="platform",
        location="Outside 12 Elm Road",
        description=amended["description"],
        fear_of_violence=True,
        alarm_or_distress=True,
        daily_life_changes=("changed_route", "extra_security"),
        witnesses="My neighbour Sam",
        reported_to_police=True,
        police_references=("CRN-2024-001",),
        evidence_count=1,
    )
    assert subjects == [
        SubjectFacts(
            id=uuid.UUID(subject["id"]),
            label="Mark",
            relationship="ex_partner",
            orders=(
                Order(
                    kind="restraining_order",
                    starts_on=date(2024, 1, 10),
                    ends_on=date(2026, 1, 10),
                    conditions="Not to contact her directly or indirectly",
                ),
                Order(
                    kind="police_information_notice",
                    starts_on=date(2023, 11, 2),
                    ends_on=None,
                    conditions="Warned about messages",
                ),
            ),
            warned_on=date(2023, 11, 2),
        )
    ]
