"""The diary as plain facts for the analysis (app.chronology): current revisions, decrypted.

One query per kind and one decryption per row, so a 10,000-incident diary loads in one pass.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.chronology.model import IncidentFacts, Order, SubjectFacts
from app.crypto.fields import DataKey
from app.diary import revisions as rev
from app.diary.filters import IncidentFilters
from app.diary.incidents import content as incident_content
from app.diary.incidents.service import current_rows
from app.diary.subjects import content as subject_content
from app.diary.subjects.service import current_subjects
from app.diary.taxonomy import order_kind
from app.models import IncidentRevision, SubjectRevision


def _incident(
    key: DataKey, incident_id: uuid.UUID, recorded_at: datetime, row: IncidentRevision
) -> IncidentFacts:
    assert row.content_enc is not None and row.occurred_at is not None
    sealed: dict[str, Any] = rev.unseal(
        key, table=incident_content.TABLE, revision_id=row.id, blob=row.content_enc
    ).body
    impact, police = sealed["impact"], sealed["police"]
    return IncidentFacts(
        id=incident_id,
        occurred_at=row.occurred_at,
        precision=row.precision or "",
        recorded_at=recorded_at,
        behaviours=tuple(incident_content.from_tags(row.behaviours)),
        subject_ids=tuple(uuid.UUID(s) for s in incident_content.from_tags(row.subject_ids)),
        ended_at=row.ended_at,
        recorded_contemporaneously=sealed["recorded_contemporaneously"],
        via_third_party=sealed["via_third_party"],
        channel=row.channel,
        platform=sealed["platform"],
        location=sealed["location"],
        description=sealed["description"],
        fear_of_violence=impact["fear_of_violence"],
        alarm_or_distress=impact["alarm_or_distress"],
        daily_life_changes=tuple(impact["daily_life_changes"]),
        witnesses=sealed["witnesses"],
        reported_to_police=bool(row.reported_to_police),
        police_references=tuple(police["references"]),
        evidence_count=len(incident_content.from_tags(row.evidence_ids)),
    )


def _subject(key: DataKey, subject_id: uuid.UUID, row: SubjectRevision) -> SubjectFacts:
    assert row.content_enc is not None
    sealed = rev.unseal(
        key, table=subject_content.TABLE, revision_id=row.id, blob=row.content_enc
    ).body
    values = subject_content.read_fields(row.relationship, sealed)
    orders = tuple(
        Order(
            kind=order.kind,
            starts_on=order.starts_on,
            ends_on=order.ends_on,
            conditions=order.conditions or "",
        )
        for order in values["orders"]
    )
    warnings = [order.starts_on for order in orders if not order_kind(order.kind).is_order]
    return SubjectFacts(
        id=subject_id,
        label=values["name"],
        relationship=row.relationship or "unknown",
        orders=orders,
        warned_on=min(warnings, default=None),
    )


def load_facts(
    session: Session, key: DataKey, account_id: uuid.UUID, filters: IncidentFilters
) -> tuple[list[IncidentFacts], list[SubjectFacts]]:
    """The account's live incidents (matching `filters`, in diary order) and live subjects."""
    if key.account_id != account_id:
        raise ValueError("the data key belongs to another account")
    incidents = [
        _incident(key, incident_id, recorded_at, row)
        for incident_id, recorded_at, row in current_rows(session, account_id, filters)
    ]
    subjects = [
        _subject(key, subject_id, row)
        for subject_id, _recorded_at, row in session.execute(current_subjects(account_id))
    ]
    return incidents, subjects
