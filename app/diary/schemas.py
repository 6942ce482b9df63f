"""Bodies the diary's objects share: withdrawal, the sync feed, the integrity report."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.diary.incidents.schemas import IncidentOut
from app.diary.subjects.schemas import SubjectOut
from app.schemas import Input, Text


class WithdrawIn(Input):
    reason: Text | None = Field(None, description="Why it is withdrawn (kept, encrypted).")


class SyncChange(BaseModel):
    """One event of the account's chain, with the revision it recorded while that still exists."""

    seq: int
    kind: str = Field(description="e.g. incident.created, subject.amended, evidence.added.")
    object_id: uuid.UUID
    revision: int
    recorded_at: datetime
    incident: IncidentOut | None = Field(
        None,
        description="The incident as this revision stored it (its own evidence_ids; links "
        "made from the evidence side come with the evidence); null if withdrawn since.",
    )
    subject: SubjectOut | None = Field(
        None, description="The subject as of this revision; null if withdrawn since."
    )


class SyncPage(BaseModel):
    items: list[SyncChange]
    next_cursor: str = Field(description="Pass it back as `cursor`; valid even when no more.")
    has_more: bool


class IntegrityReport(BaseModel):
    ok: bool
    length: int = Field(description="Events in the chain.")
    head: str = Field(description="Hash of the last event (64 zeros for an empty chain).")
    broken_at: int | None = Field(description="The seq of the first broken link, if any.")
    reason: str | None
