"""The course-of-conduct summary as the API returns it.

Every statement carries `incident_ids`: the diary entries that support it, in timeline order.
Subject ids are None only for incidents where the victim did not record who was responsible.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from app.chronology.law import Jurisdiction

Direction = Literal["escalating", "de-escalating", "stable", "insufficient_data"]
FourCode = Literal["fixated", "obsessive", "unwanted", "repeated"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Statement(_Out):
    text: str
    incident_ids: list[UUID]


class TermRef(_Out):
    code: str
    label: str


class SubjectRef(_Out):
    subject_id: UUID
    label: str


class TimelineEntry(_Out):
    incident_id: UUID
    occurred_at: datetime
    precision: str
    ended_at: datetime | None
    recorded_at: datetime
    recorded_contemporaneously: bool | None  # None: not said
    recorded_after_days: float  # recorded_at - occurred_at, in days, one decimal place
    behaviours: list[TermRef]
    severity: int | None  # the highest severity of its behaviours
    subjects: list[SubjectRef]
    via_third_party: bool
    channel: TermRef | None
    platform: str | None
    location: str | None
    description: str
    fear_of_violence: bool
    alarm_or_distress: bool
    daily_life_changes: list[TermRef]
    victim_actions: list[TermRef]  # what she did to make it stop
    witnesses: str | None
    evidence_count: int
    reported_to_police: bool
    police_references: list[str]


class Period(_Out):
    first_occurred_at: datetime | None
    last_occurred_at: datetime | None
    incident_count: int
    distinct_days: int
    weeks: int  # calendar weeks spanned, counting the first and last day
    statement: Statement


class OrderInfo(_Out):
    kind: TermRef
    is_order: bool  # False for a warning such as a Police Information Notice
    starts_on: date
    ends_on: date | None
    conditions: str


class SubjectInvolvement(_Out):
    subject_id: UUID | None
    label: str
    relationship: TermRef
    incident_count: int
    incident_ids: list[UUID]
    via_third_party_incident_ids: list[UUID]
    orders: list[OrderInfo]
    warned_on: date | None


class PoliceReport(_Out):
    incident_id: UUID
    occurred_at: datetime
    references: list[str]


class PoliceReporting(_Out):
    statement: Statement
    references: list[str]  # distinct, in order of first appearance
    reports: list[PoliceReport]


class Gap(_Out):
    days: float
    from_incident_id: UUID
    to_incident_id: UUID
    from_occurred_at: datetime
    to_occurred_at: datetime


class GapAnalysis(_Out):
    threshold_days: int
    gap_count: int
    median_days: float | None
    longest: Gap | None
    long_gaps: list[Gap]  # longer than threshold_days, in timeline order
    statement: Statement


class SubjectGaps(_Out):
    subject_id: UUID | None
    label: str
    gaps: GapAnalysis


class Gaps(_Out):
    overall: GapAnalysis
    by_subject: list[SubjectGaps]


class PeriodCount(_Out):
    period: str  # ISO week "2026-W07" or month "2026-03"
    starts_on: date
    count: int
    incident_ids: list[UUID]


class Frequency(_Out):
    by_week: list[PeriodCount]  # every week from the first incident to the last, zeros included
    by_month: list[PeriodCount]


class TrendPart(_Out):
    direction: Direction
    # Frequency: incidents a week before the recent weeks, and in them (TREND_METHOD).
    # Severity: the mean highest severity in the earlier and later half of the period.
    earlier_value: float | None
    later_value: float | None
    statement: Statement  # cites the later half's incidents when escalating
    earlier_incident_ids: list[UUID]
    later_incident_ids: list[UUID]


class SeverityFirstSeen(_Out):
    severity: int
    incident_id: UUID
    occurred_at: datetime
    behaviours: list[TermRef]  # the incident's behaviours at that severity


class Trend(_Out):
    method: str  # the rule, in plain words
    split_at: datetime | None  # the midpoint of the period, where severity is split
    frequency: TrendPart
    severity: TrendPart
    first_seen: list[SeverityFirstSeen]


class BehaviourCount(_Out):
    code: str
    label: str
    # Its citation in the jurisdiction's list of stalking conduct, e.g. "PHA 1997 s.2A(3)(e)"
    # or "CJLSA 2010 s.39(6)(f)"; None if the list does not name it.
    provision: str | None
    severity: int
    incident_ids: list[UUID]


class BehaviourGroup(_Out):
    group: str
    label: str
    incident_ids: list[UUID]
    behaviours: list[BehaviourCount]


class StalkingBehaviour(_Out):
    letter: str
    provision: str  # e.g. "PHA 1997 s.2A(3)(b)"
    wording: str
    behaviour_codes: list[str]
    incident_ids: list[UUID]


class FourMarker(_Out):
    marker: FourCode
    label: str
    indicated: bool
    statements: list[Statement]  # "Not indicated by the diary." with no ids when not indicated


class FourMarkers(_Out):
    fixated: FourMarker
    obsessive: FourMarker
    unwanted: FourMarker
    repeated: FourMarker


class CourseOfConduct(_Out):
    subject_id: UUID | None
    subject_label: str
    met: bool
    law: str
    statement: Statement
    caveats: list[Statement]


class OrderBreach(_Out):
    subject_id: UUID
    subject_label: str
    order: OrderInfo
    incident_ids: list[UUID]  # attributed to the subject while the order was in force
    date_uncertain_incident_ids: list[UUID]  # dated only to a month that straddles its dates
    statement: Statement


class OffenceIndicator(_Out):
    code: str
    title: str
    law: str
    subject_id: UUID | None
    subject_label: str
    indicated: bool
    facts: list[Statement]
    incident_ids: list[UUID]  # the incidents that point to this offence in particular


class RiskMarker(_Out):
    code: str
    title: str
    text: str
    incident_ids: list[UUID]


class Summary(_Out):
    taxonomy_version: str
    jurisdiction: Jurisdiction
    generated_at: datetime
    disclaimer: str
    risk_markers: list[RiskMarker]
    period: Period
    subjects: list[SubjectInvolvement]
    police_reports: PoliceReporting
    course_of_conduct: list[CourseOfConduct]
    offences: list[OffenceIndicator]
    breaches: list[OrderBreach]
    four: FourMarkers
    stalking_behaviours: list[StalkingBehaviour]
    behaviour_groups: list[BehaviourGroup]
    trend: Trend
    frequency: Frequency
    gaps: Gaps
    timeline: list[TimelineEntry]


class SdashQuestion(_Out):
    id: str
    text: str


class Suggestion(_Out):
    question_id: str
    question: str
    suggested_answer: Literal["yes"]
    reason: str
    incident_ids: list[UUID]


class SdashFlag(_Out):
    code: str
    text: str


class SdashResult(_Out):
    question_count: int
    answered_count: int
    yes_count: int
    yes_question_ids: list[str]
    flags: list[SdashFlag]
    advice: list[str]
    note: str
