"""Bodies for export jobs: what to export (a format and the incident filters) and its state.

The filters are those of GET /v1/incidents (`from`, `to`, `subject_id`, `behaviour`,
`reported`), given in the body; `subject_id` and `behaviour` are lists, any of which matches.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.diary.filters import IncidentFilters
from app.diary.types import BehaviourCode
from app.schemas import Flag, IsoDatetime, Name, SubjectIds

ExportFormat = Literal["pdf", "bundle", "json"]
ExportStatus = Literal["queued", "running", "done", "failed", "expired"]
BehaviourFilter = Annotated[list[BehaviourCode], Field(max_length=20)]


class ExportOptions(BaseModel):
    """What is exported: the part of the diary (as GET /v1/incidents filters) and how."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    format: ExportFormat = Field(
        description="pdf: the signed chronology; bundle: the signed zip an officer can verify "
        "offline (docs/verifying.md); json: the chronology as GET /v1/chronology returns it."
    )
    occurred_from: IsoDatetime | None = Field(
        None, alias="from", description="Occurred at or after (timezone required)."
    )
    occurred_to: IsoDatetime | None = Field(
        None, alias="to", description="Occurred before (exclusive)."
    )
    subject_id: SubjectIds = Field(default=[], description="Any of these subjects.")
    behaviour: BehaviourFilter = Field(default=[], description="Any of these codes.")
    reported: Flag | None = Field(None, description="Only entries reported (true) or not.")
    include_evidence: Flag = Field(
        True, description="Bundle: the files attached to the incidents; PDF: their list."
    )
    identification: Name | None = Field(
        None,
        description="What the PDF calls the chronology (e.g. a crime reference).",
        examples=["46/12345/26"],
    )

    @model_validator(mode="after")
    def _to_after_from(self) -> ExportOptions:
        if self.occurred_from and self.occurred_to and self.occurred_to < self.occurred_from:
            raise ValueError("`to` must not be before `from`")
        return self

    @property
    def filters(self) -> IncidentFilters:
        return IncidentFilters(
            occurred_from=self.occurred_from,
            occurred_to=self.occurred_to,
            subject_ids=tuple(self.subject_id),
            behaviours=tuple(sorted(set(self.behaviour))),
            reported=self.reported,
        )

    @property
    def is_whole_diary(self) -> bool:
        return self.filters == IncidentFilters()


class ExportIn(ExportOptions):
    id: uuid.UUID | None = Field(
        None, description="Client-chosen id: repeating the same create returns the original."
    )


class PreparedBy(BaseModel):
    kind: Literal["victim", "caseworker"]
    id: str | None = Field(description="Your account id, or the grant id of the caseworker.")
    name: str | None = Field(description="The caseworker, as they were named when they asked.")


class ExportOut(ExportOptions):
    model_config = ConfigDict(validate_by_name=True)

    id: uuid.UUID
    status: ExportStatus = Field(
        description="queued, running, done (downloadable until `expires_at`), failed, or "
        "expired (its result removed)."
    )
    prepared_by: PreparedBy
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="When the result stops being available.")
    size: int | None = Field(description="Bytes of the result, once done.")
    sha256: str | None = Field(description="SHA-256 of the result (hex), once done.")
    error: str | None = Field(description="Why it failed, if it did.")


class ExportPage(BaseModel):
    items: list[ExportOut]
    next_cursor: str | None
