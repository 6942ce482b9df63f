"""app.evidence.exhibits: which evidence is an exhibit, how it is numbered and described, and
its file read back; always within the one account whose key is given."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.crypto.fields import DataKey
from app.errors import NotFound
from app.evidence.exhibits import exhibits_for, open_exhibit
from app.models import Evidence
from app.security.keys import load_data_key
from tests.conftest import User
from tests.diary.support import incident_body
from tests.evidence import support as s


def _incident(client: TestClient, victim: User, occurred_at: str, **fields: object) -> str:
    body = incident_body(occurred_at=occurred_at, **fields)
    response = client.post("/v1/incidents", headers=victim.auth, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _key_of(app: FastAPI, evidence_id: str) -> DataKey:
    ctx = app.state.ctx
    with ctx.sessionmaker() as session:
        row = session.scalars(
            select(Evidence).where(Evidence.id == uuid.UUID(evidence_id))
        ).one_or_none()
        assert row is not None
        return load_data_key(session, ctx.keyring, row.account_id)


def test_exhibits_are_numbered_described_and_tied_to_the_earliest_incident(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    late = _incident(client, alice, "2024-03-20T10:00:00Z")
    early = _incident(client, alice, "2024-03-01T10:00:00Z")
    both = s.new_evidence(client, alice.auth, "Both", [late, early])
    loose = s.new_evidence(client, alice.auth, "Loose")
    key = _key_of(app, both)
    with app.state.ctx.sessionmaker() as session:
        every = exhibits_for(session, key, None)
        only_late = exhibits_for(session, key, {uuid.UUID(late)})
        nothing = exhibits_for(session, key, set())
    data = s.jpeg_with_exif()
    first = every[0]
    assert (first.number, str(first.evidence_id), first.caption) == ("EX-001", both, "Both")
    assert (first.file_name, first.media_type) == ("photo.jpg", "image/jpeg")
    assert (first.size, first.sha256) == (len(data), s.sha256(data))
    assert first.incident_id == uuid.UUID(early)
    assert first.captured_at == datetime(2026, 3, 14, 20, 5, 9, tzinfo=UTC)  # 21:05:09 +01:00
    assert (every[1].number, str(every[1].evidence_id)) == ("EX-002", loose)
    assert every[1].incident_id is None and len(every) == 2
    assert [(e.number, str(e.evidence_id), e.incident_id) for e in only_late] == [
        ("EX-001", both, uuid.UUID(late))
    ]
    assert nothing == []


def test_withdrawn_incidents_attach_nothing(app: FastAPI, client: TestClient, alice: User) -> None:
    incident = _incident(client, alice, "2024-03-01T10:00:00Z")
    evidence_id = s.new_evidence(client, alice.auth, "Was attached", [incident])
    gone = client.delete(f"/v1/incidents/{incident}", headers={**alice.auth, "If-Match": "*"})
    assert gone.status_code == 204
    key = _key_of(app, evidence_id)
    with app.state.ctx.sessionmaker() as session:
        assert exhibits_for(session, key, {uuid.UUID(incident)}) == []
        [unattached] = exhibits_for(session, key, None)
    assert unattached.incident_id is None


def test_an_exhibit_is_read_back_only_with_its_own_accounts_key(
    app: FastAPI, client: TestClient, alice: User, bob: User
) -> None:
    evidence_id = s.new_evidence(client, alice.auth, "Hers")
    key = _key_of(app, evidence_id)
    bobs_key = _key_of(app, s.new_evidence(client, bob.auth, "His"))
    with app.state.ctx.sessionmaker() as session:
        [exhibit] = exhibits_for(session, key, None)
        assert [e.caption for e in exhibits_for(session, bobs_key, None)] == ["His"]
    assert b"".join(open_exhibit(app.state.ctx, key, exhibit)) == s.jpeg_with_exif()
    with pytest.raises(NotFound):
        open_exhibit(app.state.ctx, bobs_key, exhibit)
