"""The one place that builds an account-scoped query: a caller sees their own account's rows.

Shared by every package that holds a victim's data (diary, evidence, exports, risk, sharing's
chain export), so it lives at the app level, not in one of them. Every such query starts from
`owned()`; every single-object route loads through
`load_owned` (`get_incident`, `get_subject`, and the evidence, upload and export lookups),
which answers 404 alike for an id that does not exist and for one that belongs to another
account, so ids reveal nothing. Client-chosen ids are unique per account, not globally (the
key is (account_id, id)), so every lookup by id carries the account, and a revision joins its
incident or subject on both columns (`incident_revisions_join`, `subject_revisions_join`).
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import (
    Evidence,
    EvidenceUpload,
    ExportJob,
    Incident,
    IncidentRevision,
    Subject,
    SubjectRevision,
)

Owned = TypeVar("Owned", Incident, Subject, Evidence, EvidenceUpload, ExportJob)


def owned_by(model: type[Owned], account_id: uuid.UUID) -> ColumnElement[bool]:
    """The condition every diary query carries: the row belongs to the caller's account."""
    return model.account_id == account_id


def incident_revisions_join() -> ColumnElement[bool]:
    """An incident and its revisions: the same account and the same incident id."""
    return and_(
        IncidentRevision.account_id == Incident.account_id,
        IncidentRevision.incident_id == Incident.id,
    )


def subject_revisions_join() -> ColumnElement[bool]:
    """A subject and its revisions: the same account and the same subject id."""
    return and_(
        SubjectRevision.account_id == Subject.account_id,
        SubjectRevision.subject_id == Subject.id,
    )


def owned(model: type[Owned], account_id: uuid.UUID) -> Select[Owned]:
    """`SELECT model WHERE account_id = :account_id`."""
    return select(model).where(owned_by(model, account_id))


def load_owned(
    session: Session,
    model: type[Owned],
    account_id: uuid.UUID,
    object_id: uuid.UUID,
    *,
    missing: str | None = None,
    lock: bool = False,
) -> Owned:
    """The caller's row, or 404 (`missing` as the detail)."""
    query = owned(model, account_id).where(model.id == object_id)
    if lock:
        query = query.with_for_update()
    # Re-read: after the chain lock is taken the row may have changed under a stale copy.
    found = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if found is None:
        raise NotFound(missing or f"No such {model.__name__.lower()}.")
    return found


def get_incident(session: Session, account_id: uuid.UUID, incident_id: uuid.UUID) -> Incident:
    """The caller's incident (withdrawn or not), or 404."""
    return load_owned(session, Incident, account_id, incident_id)


def get_subject(session: Session, account_id: uuid.UUID, subject_id: uuid.UUID) -> Subject:
    """The caller's subject (withdrawn or not), or 404."""
    return load_owned(session, Subject, account_id, subject_id)
