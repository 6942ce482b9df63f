"""The facts the analysis reads: decrypted incidents, subjects and orders, as plain values.

The diary layer builds these after decrypting rows. They validate on construction (known
taxonomy codes, timezone-aware datetimes, sane dates) so the analysis never has to guess, and
every datetime is normalised to UTC so ordering and calendar buckets are the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from uuid import UUID

from app.chronology.codes import (
    BEHAVIOUR_CODES,
    CHANNEL_CODES,
    IMPACT_CODES,
    ORDER_KINDS,
    PRECISIONS,
    RELATIONSHIP_CODES,
    VICTIM_ACTION_CODES,
)
from app.chronology.text import local_day


def require_aware(name: str, value: datetime) -> datetime:
    """`value` in UTC; ValueError if it is naive (a naive time cannot be placed in a chronology)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _require_codes(name: str, codes: tuple[str, ...], allowed: frozenset[str]) -> None:
    unknown = sorted(set(codes) - allowed)
    if unknown:
        raise ValueError(f"{name}: unknown code(s) {', '.join(unknown)}")


@dataclass(frozen=True)
class Order:
    kind: str  # taxonomy ORDER_KINDS
    starts_on: date  # date served / in force from
    ends_on: date | None
    conditions: str  # free text, e.g. "not to contact her directly or indirectly"

    def __post_init__(self) -> None:
        _require_codes("order kind", (self.kind,), ORDER_KINDS)
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("an order cannot end before it starts")


@dataclass(frozen=True)
class SubjectFacts:
    id: UUID
    label: str  # name or alias as the victim wrote it
    relationship: str  # taxonomy RELATIONSHIP_CODES
    orders: tuple[Order, ...] = ()
    warned_on: date | None = None  # e.g. a Police Information Notice or warning given

    def __post_init__(self) -> None:
        _require_codes("relationship", (self.relationship,), RELATIONSHIP_CODES)


@dataclass(frozen=True)
class IncidentFacts:
    id: UUID
    occurred_at: datetime  # timezone-aware UTC
    precision: str  # exact | approximate | day | month
    recorded_at: datetime  # server clock at receipt, aware UTC
    behaviours: tuple[str, ...]
    subject_ids: tuple[UUID, ...] = ()
    ended_at: datetime | None = None
    recorded_contemporaneously: bool | None = None  # None: the victim did not say
    via_third_party: bool = False
    channel: str | None = None
    platform: str | None = None
    location: str | None = None
    description: str = ""
    fear_of_violence: bool = False
    alarm_or_distress: bool = False
    daily_life_changes: tuple[str, ...] = ()
    victim_actions: tuple[str, ...] = ()  # asked them to stop, blocked them (codes)
    witnesses: str | None = None
    reported_to_police: bool = False
    police_references: tuple[str, ...] = ()
    evidence_count: int = 0

    def __post_init__(self) -> None:
        # Frozen: normalising to UTC has to go through object.__setattr__.
        object.__setattr__(self, "occurred_at", require_aware("occurred_at", self.occurred_at))
        object.__setattr__(self, "recorded_at", require_aware("recorded_at", self.recorded_at))
        if self.ended_at is not None:
            ended_at = require_aware("ended_at", self.ended_at)
            if ended_at < self.occurred_at:
                raise ValueError("an incident cannot end before it starts")
            object.__setattr__(self, "ended_at", ended_at)
        _require_codes("precision", (self.precision,), PRECISIONS)
        _require_codes("behaviours", self.behaviours, BEHAVIOUR_CODES)
        _require_codes("daily_life_changes", self.daily_life_changes, IMPACT_CODES)
        _require_codes("victim_actions", self.victim_actions, VICTIM_ACTION_CODES)
        if self.channel is not None:
            _require_codes("channel", (self.channel,), CHANNEL_CODES)
        if self.evidence_count < 0:
            raise ValueError("evidence_count cannot be negative")

    @property
    def occurred_on(self) -> date:
        """The UK calendar day the incident happened on (app.chronology.text)."""
        return local_day(self.occurred_at)


# Where a reader's consent excludes the diary's words (a `summary` grant, app.sharing.scopes),
# a person named in it appears as "Person 1", "Person 2", ... in the order of the subject list.
PERSON_LABEL = "Person {n}"
# The fields of the summary that are empty (or null) without the words, as the JSON names them.
WITHHELD_WITHOUT_WORDS = (
    "timeline.description",
    "timeline.location",
    "timeline.platform",
    "timeline.witnesses",
    "timeline.police_references",
    "police_reports.references",
    "subjects.label",
    "subjects.orders.conditions",
    "risk_screening.answers.context",
    "risk_screening.answerer_name",
    "risk_screening.crime_reference",
)


def without_words(
    incidents: list[IncidentFacts], subjects: list[SubjectFacts]
) -> tuple[list[IncidentFacts], list[SubjectFacts]]:
    """The facts with everything the victim wrote in her own words taken out, so nothing built
    from them (timeline, statements, offences, risk) can quote it: descriptions, places,
    platforms, witnesses, police references, the names of the people involved and the terms of
    orders. What is left is what she chose from lists (behaviours, channels, impact, the
    relationship, the kind and dates of an order) and the dates. Having reported to the police
    is kept as a yes/no."""
    kept_incidents = [
        replace(
            incident,
            description="",
            location=None,
            platform=None,
            witnesses=None,
            police_references=(),
            reported_to_police=incident.reported_to_police or bool(incident.police_references),
        )
        for incident in incidents
    ]
    kept_subjects = [
        replace(
            subject,
            label=PERSON_LABEL.format(n=n),
            orders=tuple(replace(order, conditions="") for order in subject.orders),
        )
        for n, subject in enumerate(subjects, start=1)
    ]
    return kept_incidents, kept_subjects
