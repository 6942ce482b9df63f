"""Subject rules: create (idempotent), read, list, amend (a new revision), withdraw.

The same life cycle as incidents (see app.diary.incidents.service): every write takes the
account's chain lock first, every query is scoped to `key.account_id`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, and_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.crypto.fields import DataKey
from app.db import utcnow
from app.diary import revisions as rev
from app.diary.subjects import content
from app.diary.subjects.schemas import (
    SubjectCreate,
    SubjectFields,
    SubjectOut,
    SubjectPage,
    SubjectPatch,
    SubjectRevisionOut,
    SubjectRevisionPage,
)
from app.errors import NotFound, Unprocessable, id_in_use, invalid
from app.etags import make_etag, require_match
from app.integrity import chain
from app.integrity.canonical import content_commitment
from app.models import Subject, SubjectRevision
from app.ownership import get_subject, owned_by
from app.pagination import cursor_datetime, cursor_uuid, decode_cursor, encode_cursor

FIELD_NAMES = tuple(SubjectFields.model_fields)


def require_subjects(session: Session, account_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    """422 unless every id is a live subject of this account (another's looks unknown)."""
    if not ids:
        return
    known = set(
        session.scalars(
            select(Subject.id).where(
                Subject.account_id == account_id,
                Subject.id.in_(ids),
                Subject.withdrawn_at.is_(None),
            )
        )
    )
    errors = [
        {"loc": ["body", "subject_ids", index], "msg": "is not one of your subjects"}
        for index, subject_id in enumerate(ids)
        if subject_id not in known
    ]
    if errors:
        raise Unprocessable("Some subject_ids are not your subjects.", extra={"errors": errors})


def _open(key: DataKey, row: SubjectRevision) -> rev.Opened:
    assert row.content_enc is not None
    return rev.unseal(key, table=content.TABLE, revision_id=row.id, blob=row.content_enc)


def subject_out(
    subject_id: uuid.UUID, first_recorded_at: datetime, row: SubjectRevision, values: dict[str, Any]
) -> SubjectOut:
    return SubjectOut.model_construct(
        **values,
        id=subject_id,
        revision=row.revision,
        etag=make_etag(row.revision, row.id),
        recorded_at=first_recorded_at,
        updated_at=row.recorded_at,
    )


def stored_view(
    subject_id: uuid.UUID, first_recorded_at: datetime, key: DataKey, row: SubjectRevision
) -> SubjectOut:
    values = content.read_fields(row.relationship, _open(key, row).body)
    return subject_out(subject_id, first_recorded_at, row, values)


def field_values(fields: SubjectFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in FIELD_NAMES}


def _revision(session: Session, subject: Subject, number: int) -> SubjectRevision:
    row = session.scalars(
        select(SubjectRevision).where(
            SubjectRevision.account_id == subject.account_id,
            SubjectRevision.subject_id == subject.id,
            SubjectRevision.revision == number,
        )
    ).one_or_none()
    if row is None:  # pragma: no cover - a broken database; the integrity check reports it
        raise NotFound("This subject's revision is missing.")
    return row


def _add_revision(
    session: Session, key: DataKey, subject: Subject, number: int, fields: SubjectFields, kind: str
) -> SubjectRevision:
    now = subject.recorded_at if number == 1 else utcnow()
    row_id, salt = uuid.uuid4(), rev.new_salt()
    sealed = content.sealed_content(fields)
    commitment = content_commitment(salt, content.document(fields.relationship, sealed))
    event = chain.append_event(
        session, key.account_id, kind, subject.id, number, None, commitment, recorded_at=now
    )
    row = SubjectRevision(
        id=row_id,
        account_id=subject.account_id,
        subject_id=subject.id,
        revision=number,
        chain_seq=event.seq,
        recorded_at=now,
        relationship=fields.relationship,
        content_enc=rev.seal(
            key, table=content.TABLE, revision_id=row_id, salt=salt, form="content", body=sealed
        ),
    )
    session.add(row)
    subject.current_revision = number
    return row


def create_subject(session: Session, key: DataKey, body: SubjectCreate) -> tuple[SubjectOut, bool]:
    """Create, or on a repeat of the same create return the original: (view, created)."""
    chain.lock_chain(session, key.account_id)
    if body.id is not None:
        existing = session.get(Subject, (key.account_id, body.id), populate_existing=True)
        if existing is not None:
            return _replay(session, key, existing, body), False
    subject = Subject(
        id=body.id or uuid.uuid4(),
        account_id=key.account_id,
        current_revision=1,
        recorded_at=utcnow(),
    )
    session.add(subject)
    row = _add_revision(session, key, subject, 1, body, chain.SUBJECT_CREATED)
    try:
        session.flush()
    except IntegrityError as exc:  # pragma: no cover - the chain lock serialises the account
        raise id_in_use() from exc
    return subject_out(subject.id, subject.recorded_at, row, field_values(body)), True


def _replay(session: Session, key: DataKey, existing: Subject, body: SubjectCreate) -> SubjectOut:
    first = _revision(session, existing, 1)
    if first.content_enc is None:
        raise rev.Withdrawn("This subject was withdrawn.")
    if content.document(first.relationship, _open(key, first).body) != content.fields_document(
        body
    ):
        raise id_in_use()
    return get_view(session, key, existing.id)


def get_view(session: Session, key: DataKey, subject_id: uuid.UUID) -> SubjectOut:
    subject = get_subject(session, key.account_id, subject_id)
    if subject.withdrawn_at is not None:
        raise rev.Withdrawn("This subject was withdrawn.")
    row = _revision(session, subject, subject.current_revision)
    return stored_view(subject.id, subject.recorded_at, key, row)


def amend_subject(
    session: Session, key: DataKey, subject_id: uuid.UUID, patch: SubjectPatch, if_match: str | None
) -> SubjectOut:
    chain.lock_chain(session, key.account_id)
    subject = get_subject(session, key.account_id, subject_id)
    if subject.withdrawn_at is not None:
        raise rev.Withdrawn("This subject was withdrawn.")
    current_row = _revision(session, subject, subject.current_revision)
    sealed = _open(key, current_row).body
    values = content.read_fields(current_row.relationship, sealed)
    current = subject_out(subject.id, subject.recorded_at, current_row, values)
    require_match(if_match, current.etag, lambda: current)
    try:
        fields = SubjectFields.model_validate(values | patch.model_dump(exclude_unset=True))
    except ValidationError as exc:
        raise invalid(exc, "body") from exc
    if content.fields_document(fields) == content.document(current_row.relationship, sealed):
        return current
    number = subject.current_revision + 1
    row = _add_revision(session, key, subject, number, fields, chain.SUBJECT_AMENDED)
    session.flush()
    return subject_out(subject.id, subject.recorded_at, row, field_values(fields))


def withdraw_subject(
    session: Session, key: DataKey, subject_id: uuid.UUID, if_match: str | None, reason: str | None
) -> None:
    """Erase every revision's content, keep the chain; incidents keep the id as a reference."""
    chain.lock_chain(session, key.account_id)
    subject = get_subject(session, key.account_id, subject_id)
    if subject.withdrawn_at is not None:
        return
    current_row = _revision(session, subject, subject.current_revision)
    require_match(
        if_match,
        make_etag(current_row.revision, current_row.id),
        lambda: stored_view(subject.id, subject.recorded_at, key, current_row),
    )
    now, row_id, salt = utcnow(), uuid.uuid4(), rev.new_salt()
    number = subject.current_revision + 1
    document = rev.withdrawal_document(reason)
    commitment = content_commitment(salt, document)
    event = chain.append_event(
        session,
        key.account_id,
        chain.SUBJECT_WITHDRAWN,
        subject.id,
        number,
        None,
        commitment,
        recorded_at=now,
    )
    session.execute(
        update(SubjectRevision)
        .where(
            SubjectRevision.account_id == subject.account_id,
            SubjectRevision.subject_id == subject.id,
        )
        .values(content_enc=None, relationship=None)
    )
    sealed = rev.seal(
        key, table=content.TABLE, revision_id=row_id, salt=salt, form="withdrawal", body=document
    )
    session.add(
        SubjectRevision(
            id=row_id,
            account_id=subject.account_id,
            subject_id=subject.id,
            revision=number,
            chain_seq=event.seq,
            recorded_at=now,
            content_enc=sealed,
        )
    )
    subject.current_revision = number
    subject.withdrawn_at = now
    session.flush()


def current_subjects(account_id: uuid.UUID) -> Select[uuid.UUID, datetime, SubjectRevision]:
    """(id, first recorded_at, current revision) of live subjects, oldest first."""
    return (
        select(Subject.id, Subject.recorded_at, SubjectRevision)
        .join(
            SubjectRevision,
            and_(
                SubjectRevision.account_id == Subject.account_id,
                SubjectRevision.subject_id == Subject.id,
                SubjectRevision.revision == Subject.current_revision,
            ),
        )
        .where(owned_by(Subject, account_id), Subject.withdrawn_at.is_(None))
        .order_by(Subject.recorded_at, Subject.id)
    )


def list_subjects(session: Session, key: DataKey, limit: int, cursor: str | None) -> SubjectPage:
    query = current_subjects(key.account_id)
    if cursor:
        recorded, last_id = decode_cursor(cursor, 2)
        query = query.where(
            tuple_(Subject.recorded_at, Subject.id)
            > tuple_(cursor_datetime(recorded), cursor_uuid(last_id))
        )
    rows = session.execute(query.limit(limit + 1)).all()
    items = [stored_view(sid, recorded_at, key, row) for sid, recorded_at, row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(last.recorded_at.isoformat(), str(last.id))
    return SubjectPage(items=items, next_cursor=next_cursor)


def list_revisions(
    session: Session, key: DataKey, subject_id: uuid.UUID, limit: int, cursor: str | None
) -> SubjectRevisionPage:
    subject = get_subject(session, key.account_id, subject_id)
    query = select(SubjectRevision).where(
        SubjectRevision.account_id == subject.account_id,
        SubjectRevision.subject_id == subject.id,
    )
    rows, next_cursor = rev.revision_page(session, query, SubjectRevision.revision, limit, cursor)
    items = []
    for row in rows:
        fields, reason = None, None
        if row.content_enc is not None:
            opened = _open(key, row)
            if opened.form == "withdrawal":
                reason = opened.body["reason"]
            else:
                values = content.read_fields(row.relationship, opened.body)
                fields = SubjectFields.model_construct(**values)
        items.append(
            SubjectRevisionOut(
                revision=row.revision,
                kind=rev.kind_of(
                    row.revision,
                    subject.current_revision,
                    withdrawn=subject.withdrawn_at is not None,
                ),
                recorded_at=row.recorded_at,
                seq=row.chain_seq,
                content=fields,
                withdrawal_reason=reason,
            )
        )
    return SubjectRevisionPage(items=items, next_cursor=next_cursor)
