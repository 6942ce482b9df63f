"""Incident rules: create (idempotent), read, list, amend (a new revision), withdraw.

Every write first takes the account's chain lock (app.integrity.chain.lock_chain), so the
checks it makes (is this id taken? is the If-Match current?) and the chain event it appends
see one consistent state, on any number of server processes. The account is `key.account_id`:
the data key is only ever loaded for the caller, so it doubles as the scope of every query.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row, Select, and_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.crypto.fields import DataKey
from app.db import utcnow
from app.diary import revisions as rev
from app.diary.filters import IncidentFilters, filter_conditions
from app.diary.incidents import content
from app.diary.incidents.schemas import (
    IncidentCreate,
    IncidentFields,
    IncidentOut,
    IncidentPage,
    IncidentPatch,
    IncidentRevisionOut,
    IncidentRevisionPage,
)
from app.diary.subjects.service import require_subjects
from app.errors import NotFound, id_in_use, invalid
from app.etags import linked_etag, make_etag, require_match
from app.evidence.links import evidence_naming, require_evidence
from app.integrity import chain
from app.integrity.canonical import content_commitment
from app.models import Incident, IncidentRevision
from app.ownership import get_incident, owned_by
from app.pagination import cursor_datetime, cursor_uuid, decode_cursor, encode_cursor

FIELD_NAMES = tuple(IncidentFields.model_fields)


def _open(key: DataKey, row: IncidentRevision) -> rev.Opened:
    assert row.content_enc is not None
    return rev.unseal(key, table=content.TABLE, revision_id=row.id, blob=row.content_enc)


def incident_out(
    incident_id: uuid.UUID,
    first_recorded_at: datetime,
    row: IncidentRevision,
    values: dict[str, Any],
) -> IncidentOut:
    return IncidentOut.model_construct(
        **values,
        id=incident_id,
        revision=row.revision,
        etag=make_etag(row.revision, row.id),
        recorded_at=first_recorded_at,
        updated_at=row.recorded_at,
    )


def with_links(
    session: Session, account_id: uuid.UUID, outs: list[IncidentOut]
) -> list[IncidentOut]:
    """`outs` with the live evidence that names each from the evidence side among its
    `evidence_ids` (app.evidence.links): one link, read the same from both sides."""
    naming = evidence_naming(session, account_id, [out.id for out in outs])
    return [_linked(out, naming[out.id] - set(out.evidence_ids)) for out in outs]


def _linked(out: IncidentOut, more: set[uuid.UUID]) -> IncidentOut:
    if not more:
        return out
    return out.model_copy(
        update={
            "evidence_ids": sorted({*out.evidence_ids, *more}),
            "etag": linked_etag(out.etag, more),
        }
    )


def view(key: DataKey, incident: Incident, row: IncidentRevision) -> IncidentOut:
    """The API view of one stored (not erased) revision of `incident`."""
    return incident_out(
        incident.id, incident.recorded_at, row, content.read_fields(row, _open(key, row).body)
    )


def _revision(session: Session, incident: Incident, number: int) -> IncidentRevision:
    row = session.scalars(
        select(IncidentRevision).where(
            IncidentRevision.account_id == incident.account_id,
            IncidentRevision.incident_id == incident.id,
            IncidentRevision.revision == number,
        )
    ).one_or_none()
    if row is None:  # pragma: no cover - a broken database; the integrity check reports it
        raise NotFound("This incident's revision is missing.")
    return row


def _add_revision(
    session: Session,
    key: DataKey,
    incident: Incident,
    number: int,
    fields: IncidentFields,
    kind: str,
) -> IncidentRevision:
    now = incident.recorded_at if number == 1 else utcnow()
    row_id, salt = uuid.uuid4(), rev.new_salt()
    sealed = content.sealed_content(fields)
    columns = content.plain_columns(fields)
    commitment = content_commitment(salt, content.document(columns, sealed))
    event = chain.append_event(
        session,
        key.account_id,
        kind,
        incident.id,
        number,
        fields.occurred_at,
        commitment,
        recorded_at=now,
    )
    row = IncidentRevision(
        id=row_id,
        account_id=incident.account_id,
        incident_id=incident.id,
        revision=number,
        chain_seq=event.seq,
        recorded_at=now,
        content_enc=rev.seal(
            key, table=content.TABLE, revision_id=row_id, salt=salt, form="content", body=sealed
        ),
        **columns,
    )
    session.add(row)
    incident.current_revision = number
    incident.occurred_at = fields.occurred_at
    return row


def create_incident(
    session: Session, key: DataKey, body: IncidentCreate
) -> tuple[IncidentOut, bool]:
    """Create, or on a repeat of the same create return the original: (view, created)."""
    chain.lock_chain(session, key.account_id)
    if body.id is not None:
        existing = session.get(Incident, (key.account_id, body.id), populate_existing=True)
        if existing is not None:
            return _replay(session, key, existing, body), False
    require_subjects(session, key.account_id, body.subject_ids)
    require_evidence(session, key.account_id, body.evidence_ids)
    incident = Incident(
        id=body.id or uuid.uuid4(),
        account_id=key.account_id,
        current_revision=1,
        recorded_at=utcnow(),
        occurred_at=body.occurred_at,
    )
    session.add(incident)
    row = _add_revision(session, key, incident, 1, body, chain.INCIDENT_CREATED)
    try:
        session.flush()
    except IntegrityError as exc:  # pragma: no cover - the chain lock serialises the account
        raise id_in_use() from exc
    return incident_out(incident.id, incident.recorded_at, row, field_values(body)), True


def field_values(fields: IncidentFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in FIELD_NAMES}


def _replay(
    session: Session, key: DataKey, existing: Incident, body: IncidentCreate
) -> IncidentOut:
    first = _revision(session, existing, 1)
    if first.content_enc is None:
        raise rev.Withdrawn("This incident was withdrawn.")
    stored = content.document(content.row_columns(first), _open(key, first).body)
    if stored != content.fields_document(body):
        raise id_in_use()
    return get_view(session, key, existing.id)


def get_view(session: Session, key: DataKey, incident_id: uuid.UUID) -> IncidentOut:
    incident = get_incident(session, key.account_id, incident_id)
    if incident.withdrawn_at is not None:
        raise rev.Withdrawn("This incident was withdrawn.")
    out = view(key, incident, _revision(session, incident, incident.current_revision))
    return with_links(session, key.account_id, [out])[0]


def _validated(values: dict[str, Any]) -> IncidentFields:
    try:
        return IncidentFields.model_validate(values)
    except ValidationError as exc:
        raise invalid(exc, "body") from exc


def amend_incident(
    session: Session,
    key: DataKey,
    incident_id: uuid.UUID,
    patch: IncidentPatch,
    if_match: str | None,
) -> IncidentOut:
    """A new revision with the patched fields; 412 unless If-Match names the current one."""
    chain.lock_chain(session, key.account_id)
    incident = get_incident(session, key.account_id, incident_id)
    if incident.withdrawn_at is not None:
        raise rev.Withdrawn("This incident was withdrawn.")
    current_row = _revision(session, incident, incident.current_revision)
    sealed = _open(key, current_row).body
    current_values = content.read_fields(current_row, sealed)
    current = incident_out(incident.id, incident.recorded_at, current_row, current_values)
    [current] = with_links(session, key.account_id, [current])
    require_match(if_match, current.etag, lambda: current)
    fields = _validated(current_values | patch.model_dump(exclude_unset=True))
    previous = content.document(content.row_columns(current_row), sealed)
    if content.fields_document(fields) == previous:
        return current  # nothing changed: no new revision
    require_subjects(session, key.account_id, fields.subject_ids)
    require_evidence(
        session, key.account_id, fields.evidence_ids, already=current_values["evidence_ids"]
    )
    row = _add_revision(
        session, key, incident, incident.current_revision + 1, fields, chain.INCIDENT_AMENDED
    )
    session.flush()
    out = incident_out(incident.id, incident.recorded_at, row, field_values(fields))
    return with_links(session, key.account_id, [out])[0]


def withdraw_incident(
    session: Session, key: DataKey, incident_id: uuid.UUID, if_match: str | None, reason: str | None
) -> None:
    """Erase every revision's content; keep the chain, plus a withdrawal revision with its reason.

    Withdrawing a withdrawn incident again changes nothing (a replayed DELETE is harmless).
    """
    chain.lock_chain(session, key.account_id)
    incident = get_incident(session, key.account_id, incident_id)
    if incident.withdrawn_at is not None:
        return
    current_row = _revision(session, incident, incident.current_revision)
    [current] = with_links(session, key.account_id, [view(key, incident, current_row)])
    require_match(if_match, current.etag, lambda: current)
    now, row_id, salt = utcnow(), uuid.uuid4(), rev.new_salt()
    number = incident.current_revision + 1
    document = rev.withdrawal_document(reason)
    event = chain.append_event(
        session,
        key.account_id,
        chain.INCIDENT_WITHDRAWN,
        incident.id,
        number,
        None,
        content_commitment(salt, document),
        recorded_at=now,
    )
    erased: dict[str, Any] = {name: None for name in content.PLAIN_COLUMNS}
    session.execute(
        update(IncidentRevision)
        .where(
            IncidentRevision.account_id == incident.account_id,
            IncidentRevision.incident_id == incident.id,
        )
        .values(content_enc=None, **erased)
    )
    session.add(
        IncidentRevision(
            id=row_id,
            account_id=incident.account_id,
            incident_id=incident.id,
            revision=number,
            chain_seq=event.seq,
            recorded_at=now,
            content_enc=rev.seal(
                key,
                table=content.TABLE,
                revision_id=row_id,
                salt=salt,
                form="withdrawal",
                body=document,
            ),
        )
    )
    incident.current_revision = number
    incident.withdrawn_at = now
    incident.occurred_at = None
    session.flush()


def current_incidents(
    account_id: uuid.UUID,
) -> Select[uuid.UUID, datetime, IncidentRevision]:
    """(id, first recorded_at, current revision) of live incidents; unordered, unfiltered."""
    return (
        select(Incident.id, Incident.recorded_at, IncidentRevision)
        .join(
            IncidentRevision,
            and_(
                IncidentRevision.account_id == Incident.account_id,
                IncidentRevision.incident_id == Incident.id,
                IncidentRevision.revision == Incident.current_revision,
            ),
        )
        .where(owned_by(Incident, account_id), Incident.withdrawn_at.is_(None))
    )


def current_rows(
    session: Session,
    account_id: uuid.UUID,
    filters: IncidentFilters,
    *,
    limit: int | None = None,
    after: tuple[Any, ...] | None = None,
) -> Sequence[Row[uuid.UUID, datetime, IncidentRevision]]:
    """(id, first recorded_at, current revision) of live incidents, in the diary's order."""
    query = current_incidents(account_id).where(*filter_conditions(filters))
    if after is not None:
        query = query.where(
            tuple_(Incident.occurred_at, Incident.recorded_at, Incident.id) > tuple_(*after)
        )
    query = query.order_by(Incident.occurred_at, Incident.recorded_at, Incident.id)
    if limit is not None:
        query = query.limit(limit)
    return session.execute(query).all()


def list_incidents(
    session: Session, key: DataKey, filters: IncidentFilters, limit: int, cursor: str | None
) -> IncidentPage:
    after = None
    if cursor:
        occurred, recorded, last_id = decode_cursor(cursor, 3)
        after = (cursor_datetime(occurred), cursor_datetime(recorded), cursor_uuid(last_id))
    rows = current_rows(session, key.account_id, filters, limit=limit + 1, after=after)
    items = [
        incident_out(incident_id, recorded_at, row, content.read_fields(row, _open(key, row).body))
        for incident_id, recorded_at, row in rows[:limit]
    ]
    items = with_links(session, key.account_id, items)
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(
            last.occurred_at.isoformat(), last.recorded_at.isoformat(), str(last.id)
        )
    return IncidentPage(items=items, next_cursor=next_cursor)


def list_revisions(
    session: Session, key: DataKey, incident_id: uuid.UUID, limit: int, cursor: str | None
) -> IncidentRevisionPage:
    """Every revision, oldest first; erased content shows as null, the withdrawal's reason stays."""
    incident = get_incident(session, key.account_id, incident_id)
    query = select(IncidentRevision).where(
        IncidentRevision.account_id == incident.account_id,
        IncidentRevision.incident_id == incident.id,
    )
    rows, next_cursor = rev.revision_page(session, query, IncidentRevision.revision, limit, cursor)
    items = [_revision_out(key, incident, row) for row in rows]
    return IncidentRevisionPage(items=items, next_cursor=next_cursor)


def _revision_out(key: DataKey, incident: Incident, row: IncidentRevision) -> IncidentRevisionOut:
    fields, reason = None, None
    if row.content_enc is not None:
        opened = _open(key, row)
        if opened.form == "withdrawal":
            reason = opened.body["reason"]
        else:
            fields = IncidentFields.model_construct(**content.read_fields(row, opened.body))
    return IncidentRevisionOut(
        revision=row.revision,
        kind=rev.kind_of(
            row.revision, incident.current_revision, withdrawn=incident.withdrawn_at is not None
        ),
        recorded_at=row.recorded_at,
        seq=row.chain_seq,
        content=fields,
        withdrawal_reason=reason,
    )
