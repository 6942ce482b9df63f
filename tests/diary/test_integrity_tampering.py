"""Any stored byte changed behind the API's back is reported at the exact event it belongs to.

The diary built here has six events:
  1 subject S created   2 incident A created   3 incident B created
  4 A amended           5 B withdrawn          6 incident C created
Each case edits the database directly (as an attacker or a faulty tool would) and checks that
GET /v1/diary/integrity reports `broken_at` at the right seq.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine
from app.models import ChainEvent, ChainHead, Incident, IncidentRevision, SubjectRevision
from tests.conftest import User
from tests.diary.support import create_incident, create_subject, integrity, with_etag


@dataclass
class Diary:
    subject: uuid.UUID
    a: uuid.UUID
    b: uuid.UUID
    c: uuid.UUID


@pytest.fixture
def diary(client: TestClient, alice: User) -> Diary:
    subject = create_subject(client, alice)
    a = create_incident(client, alice, subject_ids=[subject["id"]], behaviours=["loitering"])
    b = create_incident(client, alice, description="to be withdrawn")
    client.patch(
        f"/v1/incidents/{a['id']}",
        json={"description": "amended", "reported_to_police": True},
        headers=with_etag(alice, a["etag"]),
    )
    client.request(
        "DELETE",
        f"/v1/incidents/{b['id']}",
        json={"reason": "dup"},
        headers=with_etag(alice, b["etag"]),
    )
    c = create_incident(client, alice, occurred_at="2024-06-01T08:00:00Z")
    return Diary(*(uuid.UUID(x["id"]) for x in (subject, a, b, c)))


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def _flip_hex(value: str) -> str:
    return ("1" if value[10] == "0" else "0").join((value[:10], value[11:]))


def _event(db: Session, seq: int) -> ChainEvent:
    return db.scalars(select(ChainEvent).where(ChainEvent.seq == seq)).one()


def _incident(db: Session, incident_id: uuid.UUID) -> Incident:
    # The diary is one account's, so its id alone names the row (keys are (account_id, id)).
    return db.scalars(select(Incident).where(Incident.id == incident_id)).one()


def _incident_rev(db: Session, incident_id: uuid.UUID, revision: int) -> IncidentRevision:
    return db.scalars(
        select(IncidentRevision).where(
            IncidentRevision.incident_id == incident_id, IncidentRevision.revision == revision
        )
    ).one()


def _subject_rev(db: Session, d: Diary) -> SubjectRevision:
    return db.scalars(select(SubjectRevision).where(SubjectRevision.subject_id == d.subject)).one()


def _shift(value: datetime | None, delta: timedelta) -> datetime:
    assert value is not None
    return value + delta


def _set(obj: object, **values: object) -> None:
    for name, value in values.items():
        setattr(obj, name, value)


def _swap_seqs(db: Session, d: Diary) -> None:
    two, three = _event(db, 2), _event(db, 3)
    two.seq = -2
    db.flush()
    three.seq = 2
    db.flush()
    two.seq = 3


Tamper = Callable[[Session, Diary], None]
CASES: dict[str, tuple[Tamper, int]] = {
    "ciphertext of an amendment": (
        lambda db, d: _set(r := _incident_rev(db, d.a, 2), content_enc=_flip(r.content_enc or b"")),
        4,
    ),
    "ciphertext of a subject": (
        lambda db, d: _set(r := _subject_rev(db, d), content_enc=_flip(r.content_enc or b"")),
        1,
    ),
    "ciphertext of a withdrawal": (
        lambda db, d: _set(r := _incident_rev(db, d.b, 2), content_enc=_flip(r.content_enc or b"")),
        5,
    ),
    "ciphertext copied from another row": (
        lambda db, d: _set(
            _incident_rev(db, d.c, 1), content_enc=_incident_rev(db, d.a, 2).content_enc
        ),
        6,
    ),
    "event hash": (lambda db, d: _set(e := _event(db, 3), hash=_flip_hex(e.hash)), 3),
    "event prev_hash": (
        lambda db, d: _set(e := _event(db, 4), prev_hash=_flip_hex(e.prev_hash)),
        4,
    ),
    "event content_sha256": (
        lambda db, d: _set(e := _event(db, 2), content_sha256=_flip_hex(e.content_sha256)),
        2,
    ),
    "event kind": (lambda db, d: _set(_event(db, 4), kind="incident.created"), 4),
    "head hash": (
        lambda db, d: _set(
            h := db.scalars(select(ChainHead)).one(), head_hash=_flip_hex(h.head_hash)
        ),
        6,
    ),
    "event recorded_at": (
        lambda db, d: _set(
            e := _event(db, 3), recorded_at=e.recorded_at + timedelta(microseconds=1)
        ),
        3,
    ),
    "event occurred_at": (
        lambda db, d: _set(
            e := _event(db, 2), occurred_at=_shift(e.occurred_at, -timedelta(days=1))
        ),
        2,
    ),
    "revision recorded_at": (
        lambda db, d: _set(
            r := _incident_rev(db, d.a, 2), recorded_at=r.recorded_at - timedelta(seconds=1)
        ),
        4,
    ),
    "revision occurred_at": (
        lambda db, d: _set(
            r := _incident_rev(db, d.c, 1),
            occurred_at=_shift(r.occurred_at, timedelta(hours=1)),
        ),
        6,
    ),
    "listing occurred_at": (
        lambda db, d: _set(
            i := _incident(db, d.c),
            occurred_at=_shift(i.occurred_at, timedelta(days=1)),
        ),
        6,
    ),
    "behaviour code of an amendment": (
        lambda db, d: _set(_incident_rev(db, d.a, 2), behaviours="|violence|"),
        4,
    ),
    "behaviour code of a creation": (
        lambda db, d: _set(_incident_rev(db, d.c, 1), behaviours="|loitering|other|"),
        6,
    ),
    "reported flag": (lambda db, d: _set(_incident_rev(db, d.a, 2), reported_to_police=False), 4),
    "subject relationship code": (
        lambda db, d: _set(_subject_rev(db, d), relationship="stranger"),
        1,
    ),
    "revision's chain_seq": (lambda db, d: _set(_incident_rev(db, d.a, 2), chain_seq=6), 4),
    "current revision rolled back": (
        lambda db, d: _set(_incident(db, d.a), current_revision=1),
        4,
    ),
    "withdrawal undone": (lambda db, d: _set(_incident(db, d.b), withdrawn_at=None), 5),
    "content erased without a withdrawal": (
        lambda db, d: _set(_incident_rev(db, d.a, 1), content_enc=None),
        2,
    ),
    "event deleted": (lambda db, d: db.delete(_event(db, 3)), 3),
    "last event deleted": (lambda db, d: db.delete(_event(db, 6)), 6),
    "revision deleted": (lambda db, d: db.delete(_incident_rev(db, d.a, 1)), 2),
    "incident deleted with its revisions": (
        lambda db, d: db.execute(delete(Incident).where(Incident.id == d.c)),
        6,
    ),
    "seqs swapped": (_swap_seqs, 2),
}


def test_an_untouched_diary_verifies(
    client: TestClient, alice: User, diary: Diary, db: Session
) -> None:
    head = db.scalars(select(ChainHead)).one()
    assert integrity(client, alice) == {
        "ok": True,
        "length": 6,
        "head": head.head_hash,
        "broken_at": None,
        "reason": None,
    }
    assert head.seq == 6
    assert [e.seq for e in db.scalars(select(ChainEvent).order_by(ChainEvent.seq))] == list(
        range(1, 7)
    )


@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_reported_at_its_event(
    client: TestClient, alice: User, diary: Diary, db: Session, case: str
) -> None:
    tamper, expected = CASES[case]
    tamper(db, diary)
    db.commit()
    report = integrity(client, alice)
    assert (report["ok"], report["broken_at"]) == (False, expected), report
    assert report["reason"]
