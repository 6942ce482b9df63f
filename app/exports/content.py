"""What a PDF or bundle of a diary is made of, read once from the database.

The summary comes from the same code as the victim's own chronology (app.diary.facts and
app.chronology.summary) over the same filters; entries a caseworker drafted say so at the head
of their description (app.sharing.drafts), so an officer always knows whose words they read;
the exhibits are the evidence attached to the incidents shown (app.evidence.exhibits); the chain
head is the account's, as the bundle's chain document ends.

Shared by the export jobs and the share viewer (app.viewer.content).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.chronology.schemas import Summary
from app.chronology.summary import build_summary
from app.crypto.fields import DataKey
from app.db import utcnow
from app.diary.facts import load_facts
from app.diary.filters import IncidentFilters
from app.diary.incidents.service import current_rows
from app.evidence.exhibits import Exhibit, exhibits_for
from app.exports.model import ChainHead
from app.integrity.canonical import GENESIS_HASH
from app.models import Account
from app.models import ChainHead as StoredHead
from app.risk import service as risk_service
from app.risk.schemas import RiskScreening
from app.sharing import drafts


@dataclass(frozen=True)
class ExportContent:
    summary: Summary  # as the victim's chronology shows it
    marks: drafts.Marks  # the entries shown that a caseworker drafted
    exhibits: list[Exhibit]
    chain_head: ChainHead
    screening: RiskScreening | None = None  # S-DASH: latest answers and the diary's suggestions

    @property
    def marked_summary(self) -> Summary:
        """The summary as a PDF or bundle carries it: drafted entries say so in their text."""
        return marked(self.summary, self.marks)


def chain_head(session: Session, account_id: uuid.UUID) -> ChainHead:
    stored = session.get(StoredHead, account_id)
    if stored is None:
        return ChainHead(length=0, hash=GENESIS_HASH)
    return ChainHead(length=stored.seq, hash=stored.head_hash)


def marked(summary: Summary, marks: drafts.Marks) -> Summary:
    """The summary with each drafted entry's mark at the head of its description."""
    if not marks:
        return summary
    timeline = []
    for entry in summary.timeline:
        mark = marks.get(entry.incident_id)
        if mark is not None:
            text = f"[{drafts.drafted_label(mark)}] {entry.description}"
            entry = entry.model_copy(update={"description": text})
        timeline.append(entry)
    return summary.model_copy(update={"timeline": timeline})


def load_content(
    session: Session, key: DataKey, filters: IncidentFilters, *, include_evidence: bool
) -> ExportContent:
    """The export of the account whose data key this is, over `filters`."""
    account = session.get(Account, key.account_id)
    jurisdiction = account.jurisdiction if account else "england_wales"
    incidents, subjects = load_facts(session, key, key.account_id, filters)
    summary = build_summary(incidents, subjects, generated_at=utcnow(), jurisdiction=jurisdiction)
    shown = {incident.id for incident in incidents}
    # All of the account's marks, then those shown: a diary may show thousands of entries.
    marks = {i: mark for i, mark in drafts.marks(session, key).items() if i in shown}
    exhibits = exhibits_for(session, key, shown) if include_evidence else []
    screening = risk_service.screening(session, key, incidents, subjects)
    return ExportContent(summary, marks, exhibits, chain_head(session, key.account_id), screening)


def exhibits_in_scope(session: Session, key: DataKey, filters: IncidentFilters) -> list[Exhibit]:
    """The exhibits `load_content` lists over `filters`, without decrypting the diary."""
    shown = {incident_id for incident_id, _, _ in current_rows(session, key.account_id, filters)}
    return exhibits_for(session, key, shown)
