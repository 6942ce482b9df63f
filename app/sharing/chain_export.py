"""The `chain.json` of a shared bundle, read from the database (format: app.exports.bundle).

`events` is always the account's whole chain: the hash of each event covers the one before,
so no part of it can be left out and still be checked. Events carry no content, only kinds,
ids, revision numbers, dates and commitments.

`revisions` (each entry revision's salt and canonical content, which let an outsider recompute
every commitment) are included only when the share covers the whole diary: for a share of
part of it they would disclose entries outside its scope, and the offline verifier needs all
of them or none. A partial share's bundle therefore proves the chain's links and head, and
the signed manifest binds the summary to that head.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto.fields import DataKey
from app.diary import revisions as rev
from app.diary.access import incident_revisions_join, owned_by, subject_revisions_join
from app.diary.incidents import content as incident_content
from app.diary.subjects import content as subject_content
from app.integrity.canonical import LinkFields
from app.models import ChainEvent, Incident, IncidentRevision, Subject, SubjectRevision

Document = Callable[[Mapping[str, Any]], dict[str, Any]]


def _event(event: ChainEvent) -> dict[str, Any]:
    fields = LinkFields(
        seq=event.seq,
        prev_hash=event.prev_hash,
        kind=event.kind,
        object_id=event.object_id,
        revision=event.revision,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        content_sha256=event.content_sha256,
    )
    return {**fields.document(), "hash": event.hash}


def _revision(
    key: DataKey,
    table: str,
    object_id: str,
    row: IncidentRevision | SubjectRevision,
    document: Document,
) -> dict[str, Any]:
    salt: str | None = None
    content: dict[str, Any] | None = None
    if row.content_enc is not None:
        opened = rev.unseal(key, table=table, revision_id=row.id, blob=row.content_enc)
        salt = opened.salt.hex()
        if opened.form == "withdrawal":
            content = rev.withdrawal_document(opened.body["reason"])
        else:
            content = document(opened.body)
    return {"object_id": object_id, "revision": row.revision, "salt": salt, "content": content}


def _revisions(session: Session, key: DataKey) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    incidents = session.execute(
        select(IncidentRevision)
        .join(Incident, incident_revisions_join())
        .where(owned_by(Incident, key.account_id))
        .order_by(IncidentRevision.chain_seq)
    ).scalars()
    for row in incidents:
        columns = incident_content.row_columns(row)
        docs.append(
            _revision(
                key,
                incident_content.TABLE,
                str(row.incident_id),
                row,
                partial(incident_content.document, columns),
            )
        )
    subjects = session.execute(
        select(SubjectRevision)
        .join(Subject, subject_revisions_join())
        .where(owned_by(Subject, key.account_id))
        .order_by(SubjectRevision.chain_seq)
    ).scalars()
    for srow in subjects:
        relationship = srow.relationship
        docs.append(
            _revision(
                key,
                subject_content.TABLE,
                str(srow.subject_id),
                srow,
                partial(subject_content.document, relationship),
            )
        )
    return docs


def chain_document(session: Session, key: DataKey, *, with_revisions: bool) -> dict[str, Any]:
    """`{"events": [...]}`, plus `"revisions"` when `with_revisions` (a whole-diary share)."""
    events = session.scalars(
        select(ChainEvent).where(ChainEvent.account_id == key.account_id).order_by(ChainEvent.seq)
    ).all()
    document: dict[str, Any] = {"events": [_event(event) for event in events]}
    if with_revisions:
        document["revisions"] = _revisions(session, key)
    return document
