"""Another account's diary does not exist for the caller: 404 on every method, empty filters."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import make_engine
from app.models import (
    ChainEvent,
    ChainHead,
    Incident,
    IncidentRevision,
    Subject,
    SubjectRevision,
)
from tests.conftest import User
from tests.diary.support import create_incident, create_subject, integrity, with_etag

SECRET = "Alice-only-words"


def _snapshot(client: TestClient, user: User) -> dict[str, Any]:
    return {
        "incidents": client.get("/v1/incidents", headers=user.auth).json(),
        "subjects": client.get("/v1/subjects", headers=user.auth).json(),
        "sync": client.get("/v1/sync", headers=user.auth).json(),
        "integrity": integrity(client, user),
    }


def test_bob_gets_404_for_alices_incident_and_subject_on_every_method(
    client: TestClient, alice: User, bob: User
) -> None:
    subject = create_subject(client, alice, name=SECRET)
    entry = create_incident(client, alice, description=SECRET, subject_ids=[subject["id"]])
    before = _snapshot(client, alice)
    for kind, thing in (("incidents", entry), ("subjects", subject)):
        url = f"/v1/{kind}/{thing['id']}"
        responses = [
            client.get(url, headers=bob.auth),
            client.patch(url, json={}, headers=with_etag(bob, thing["etag"])),
            client.patch(url, json={}, headers=bob.auth),  # 404 before 428
            client.request(
                "DELETE", url, json={"reason": "x"}, headers=with_etag(bob, thing["etag"])
            ),
            client.delete(url, headers=bob.auth),
            client.get(f"{url}/revisions", headers=bob.auth),
        ]
        for response in responses:
            assert response.status_code == 404, (kind, response.request.method)
            assert response.headers["content-type"] == "application/problem+json"
            assert SECRET not in response.text
            assert "etag" not in {k.lower() for k in response.headers}
    assert _snapshot(client, alice) == before


def test_bob_filtering_by_alices_subject_sees_nothing(
    client: TestClient, alice: User, bob: User
) -> None:
    subject = create_subject(client, alice, name=SECRET)
    create_incident(client, alice, description=SECRET, subject_ids=[subject["id"]])
    create_incident(client, bob)
    response = client.get("/v1/incidents", params={"subject_id": subject["id"]}, headers=bob.auth)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


def test_lists_sync_and_integrity_are_per_account(
    client: TestClient, alice: User, bob: User
) -> None:
    create_subject(client, alice, name=SECRET)
    create_incident(client, alice, description=SECRET)
    mine = create_incident(client, bob)
    for url in ("/v1/incidents", "/v1/subjects", "/v1/sync"):
        response = client.get(url, headers=bob.auth)
        assert SECRET not in response.text, url
    assert [i["id"] for i in client.get("/v1/incidents", headers=bob.auth).json()["items"]] == [
        mine["id"]
    ]
    sync = client.get("/v1/sync", headers=bob.auth).json()
    assert [(c["seq"], c["object_id"]) for c in sync["items"]] == [(1, mine["id"])]
    assert integrity(client, bob)["length"] == 1
    assert integrity(client, alice)["length"] == 2


def test_erasing_the_account_removes_its_diary_and_chain(
    client: TestClient, alice: User, bob: User, database_url: str
) -> None:
    subject = create_subject(client, alice, name=SECRET)
    create_incident(client, alice, description=SECRET, subject_ids=[subject["id"]])
    create_incident(client, bob)
    erased = client.request(
        "DELETE", "/v1/me", json={"password": alice.password}, headers=alice.auth
    )
    assert erased.status_code == 204
    engine = make_engine(database_url)
    with engine.connect() as conn:
        counts = {
            model.__tablename__: conn.scalar(select(func.count()).select_from(model))
            for model in (
                Subject,
                SubjectRevision,
                Incident,
                IncidentRevision,
                ChainEvent,
                ChainHead,
            )
        }
    engine.dispose()
    assert counts == {
        "subjects": 0,
        "subject_revisions": 0,
        "incidents": 1,
        "incident_revisions": 1,
        "chain_events": 1,
        "chain_heads": 1,
    }
    assert integrity(client, bob)["ok"] is True
