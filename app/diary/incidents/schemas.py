"""Incident bodies. Inputs forbid unknown fields, so `seq`, `recorded_at` or an owner cannot be
smuggled in (mass assignment); every bound is enforced here, before anything is stored."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from app.diary.types import Behaviours, ChannelCode, ImpactCodes, PrecisionCode, VictimActions
from app.schemas import (
    EvidenceIds,
    Flag,
    Input,
    Narrative,
    References,
    ShortText,
    SubjectIds,
    Text,
    When,
)


class Coordinates(Input):
    """WGS 84 degrees; kept to 7 decimal places (about 1 cm)."""

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False, strict=True)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False, strict=True)


class Impact(Input):
    """The effect on the victim: what PHA 1997 s.4 and s.4A turn on."""

    fear_of_violence: Flag = False
    alarm_or_distress: Flag = False
    daily_life_changes: ImpactCodes = []
    details: Text | None = None


class Police(Input):
    references: References = Field(default=[], description="Crime reference numbers.")
    officer: ShortText | None = Field(None, description="Officer in charge.")
    outcome: Text | None = None


class IncidentFields(Input):
    """What the victim says about one incident: the content of one revision."""

    occurred_at: When = Field(description="When it started (timezone required).")
    ended_at: When | None = None
    precision: PrecisionCode = "exact"
    subject_ids: SubjectIds = []
    behaviours: Behaviours = Field(description="Codes from GET /v1/taxonomy.")
    via_third_party: Flag = Field(False, description="Done through someone else (by proxy).")
    recorded_contemporaneously: Flag | None = Field(
        None,
        description="true: written at the time; false: written later from memory; null or "
        "left out: not said (printed as neither).",
    )
    channel: ChannelCode | None = None
    platform: ShortText | None = Field(None, description="App, site, number or handle used.")
    location: Text | None = None
    coordinates: Coordinates | None = None
    description: Narrative = Field("", description="What happened, in the victim's words.")
    impact: Impact = Field(default_factory=Impact)
    victim_actions: VictimActions = Field(
        [],
        description="What she did, at this incident, to make it stop (asked them to stop, "
        "blocked them): codes from GET /v1/taxonomy (victim_actions). Conduct by the same "
        "person after it is shown as unwanted.",
    )
    witnesses: Text | None = None
    reported_to_police: Flag = False
    police: Police = Field(default_factory=Police)
    evidence_ids: EvidenceIds = []

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> IncidentFields:
        if self.ended_at is not None and self.ended_at < self.occurred_at:
            raise ValueError("ended_at must not be before occurred_at")
        return self


class IncidentCreate(IncidentFields):
    id: uuid.UUID | None = Field(
        None, description="Client-chosen id: repeating the same create returns the original."
    )


class IncidentPatch(Input):
    """Top-level fields to replace; omitted fields keep their value, null clears an optional one."""

    occurred_at: When | None = None
    ended_at: When | None = None
    precision: PrecisionCode | None = None
    subject_ids: SubjectIds | None = None
    behaviours: Behaviours | None = None
    via_third_party: Flag | None = None
    recorded_contemporaneously: Flag | None = None
    channel: ChannelCode | None = None
    platform: ShortText | None = None
    location: Text | None = None
    coordinates: Coordinates | None = None
    description: Narrative | None = None
    impact: Impact | None = None
    victim_actions: VictimActions | None = None
    witnesses: Text | None = None
    reported_to_police: Flag | None = None
    police: Police | None = None
    evidence_ids: EvidenceIds | None = None


class IncidentOut(IncidentFields):
    id: uuid.UUID
    revision: int
    etag: str = Field(
        description="What this shows, as If-Match takes it: a new revision changes it, and so "
        "does evidence that names this incident from its side (no new revision)."
    )
    recorded_at: datetime = Field(description="When the server first received the entry.")
    updated_at: datetime = Field(description="When the server received this revision.")


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None


class IncidentRevisionOut(BaseModel):
    revision: int
    kind: Literal["created", "amended", "withdrawn"]
    recorded_at: datetime
    seq: int = Field(description="The integrity chain event that recorded this revision.")
    content: IncidentFields | None = Field(description="None once the entry was withdrawn.")
    withdrawal_reason: str | None = None


class IncidentRevisionPage(BaseModel):
    items: list[IncidentRevisionOut]
    next_cursor: str | None
