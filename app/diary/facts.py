"""The diary as plain facts for the analysis (app.chronology): current revisions, decrypted.

One query per kind and one decryption per row, so a 10,000-incident diary loads in one pass.
An incident's evidence count is the live files linked from either side (app.evidence.links).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chronology.codes import order_kind
from app.chronology.model import IncidentFacts, Order, SubjectFacts
from app.crypto.fields import DataKey
from app.db import from_tags
from app.diary import revisions as rev
from app.diary.filters import IncidentFilters
from app.diary.incidents import content as incident_content
from app.diary.incidents.service import current_rows
from app.diary.subjects import content as subject_content
from app.diary.subjects.service import current_subjects
from app.models import Evidence, IncidentRevision, SubjectRevision


def _incident(
    key: DataKey,
    incident_id: uuid.UUID,
    recorded_at: datetime,
    row: IncidentRevision,
    evidence: _EvidenceLinks,
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
        behaviours=tuple(from_tags(row.behaviours)),
        subject_ids=tuple(uuid.UUID(s) for s in from_tags(row.subject_ids)),
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
        victim_actions=tuple(sealed.get("victim_actions", ())),
        witnesses=sealed["witnesses"],
        reported_to_police=bool(row.reported_to_police),
        police_references=tuple(police["references"]),
        evidence_count=evidence.count(incident_id, from_tags(row.evidence_ids)),
    )


class _EvidenceLinks:
    """The account's live evidence and the incidents each names, so an incident counts a file
    linked from either side once: listed in the incident, or naming it from the evidence."""

    def __init__(self, session: Session, account_id: uuid.UUID) -> None:
        self.live: set[str] = set()
        self.naming: dict[str, set[str]] = {}
        rows = session.execute(
            select(Evidence.id, Evidence.incident_ids).where(
                Evidence.account_id == account_id, Evidence.deleted_at.is_(None)
            )
        )
        for evidence_id, incident_ids in rows:
            self.live.add(str(evidence_id))
            for incident_id in from_tags(incident_ids):
                self.naming.setdefault(incident_id, set()).add(str(evidence_id))

    def count(self, incident_id: uuid.UUID, listed: list[str]) -> int:
        return len((set(listed) & self.live) | self.naming.get(str(incident_id), set()))


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
    evidence = _EvidenceLinks(session, account_id)
    incidents = [
        _incident(key, incident_id, recorded_at, row, evidence)
        for incident_id, recorded_at, row in current_rows(session, account_id, filters)
    ]
    subjects = [
        _subject(key, subject_id, row)
        for subject_id, _recorded_at, row in session.execute(current_subjects(account_id))
    ]
    return incidents, subjects
