"""The change feed for offline clients: the account's chain, read forward from a cursor.

The chain already is the ordered, gap-free log of every change, so the cursor is simply the
last seq a client has seen. Each change carries the object as of that revision while its
content exists; a withdrawn object's earlier changes come with no content, and its withdrawal
follows in order. Evidence events carry only their ids (fetch the evidence itself: its
`incident_ids` are the links made from its side, which an incident's revision does not store).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.crypto.fields import DataKey
from app.diary import revisions as rev
from app.diary.incidents import content as incident_content
from app.diary.incidents.service import incident_out
from app.diary.schemas import SyncChange, SyncPage
from app.diary.subjects import content as subject_content
from app.diary.subjects.service import subject_out
from app.models import ChainEvent, Incident, IncidentRevision, Subject, SubjectRevision
from app.ownership import incident_revisions_join, owned_by, subject_revisions_join
from app.pagination import bad_cursor, decode_cursor, encode_cursor

Key = tuple[uuid.UUID, int]


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    (seq,) = decode_cursor(cursor, 1)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise bad_cursor()
    return seq


def _incidents(session: Session, key: DataKey, wanted: list[Key]) -> dict[Key, Any]:
    if not wanted:
        return {}
    rows = session.execute(
        select(Incident.recorded_at, IncidentRevision)
        .join(Incident, incident_revisions_join())
        .where(
            owned_by(Incident, key.account_id),
            tuple_(IncidentRevision.incident_id, IncidentRevision.revision).in_(wanted),
            IncidentRevision.content_enc.is_not(None),
        )
    )
    found = {}
    for recorded_at, row in rows:
        assert row.content_enc is not None
        opened = rev.unseal(
            key, table=incident_content.TABLE, revision_id=row.id, blob=row.content_enc
        )
        if opened.form == "content":
            values = incident_content.read_fields(row, opened.body)
            found[(row.incident_id, row.revision)] = incident_out(
                row.incident_id, recorded_at, row, values
            )
    return found


def _subjects(session: Session, key: DataKey, wanted: list[Key]) -> dict[Key, Any]:
    if not wanted:
        return {}
    rows = session.execute(
        select(Subject.recorded_at, SubjectRevision)
        .join(Subject, subject_revisions_join())
        .where(
            owned_by(Subject, key.account_id),
            tuple_(SubjectRevision.subject_id, SubjectRevision.revision).in_(wanted),
            SubjectRevision.content_enc.is_not(None),
        )
    )
    found = {}
    for recorded_at, row in rows:
        assert row.content_enc is not None
        opened = rev.unseal(
            key, table=subject_content.TABLE, revision_id=row.id, blob=row.content_enc
        )
        if opened.form == "content":
            values = subject_content.read_fields(row.relationship, opened.body)
            found[(row.subject_id, row.revision)] = subject_out(
                row.subject_id, recorded_at, row, values
            )
    return found


def changes(session: Session, key: DataKey, cursor: str | None, limit: int) -> SyncPage:
    after = _after(cursor)
    events = session.scalars(
        select(ChainEvent)
        .where(ChainEvent.account_id == key.account_id, ChainEvent.seq > after)
        .order_by(ChainEvent.seq)
        .limit(limit + 1)
    ).all()
    page = events[:limit]
    incidents = _incidents(
        session, key, [(e.object_id, e.revision) for e in page if e.kind.startswith("incident.")]
    )
    subjects = _subjects(
        session, key, [(e.object_id, e.revision) for e in page if e.kind.startswith("subject.")]
    )
    items = [
        SyncChange(
            seq=event.seq,
            kind=event.kind,
            object_id=event.object_id,
            revision=event.revision,
            recorded_at=event.recorded_at,
            incident=incidents.get((event.object_id, event.revision)),
            subject=subjects.get((event.object_id, event.revision)),
        )
        for event in page
    ]
    last = page[-1].seq if page else after
    return SyncPage(items=items, next_cursor=encode_cursor(last), has_more=len(events) > limit)
