"""The chronology itself: stable ordering, who each incident is attributed to, and the timeline.

Order is occurred_at, then recorded_at, then id, so the same diary always yields the same
summary whatever order the rows arrive in. Conduct through a third party is attributed to the
subject who arranged it (PHA 1997 s.7(3A)); incidents with no subject form one "not identified"
party, which is kept apart rather than guessed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from uuid import UUID

from app.chronology.codes import (
    CHANNEL_TERMS,
    IMPACT_TERMS,
    RELATIONSHIP_TERMS,
    VICTIM_ACTION_TERMS,
    Term,
    behaviour,
    label,
    order_kind,
)
from app.chronology.model import IncidentFacts, Order, SubjectFacts
from app.chronology.schemas import (
    OrderInfo,
    Period,
    PoliceReport,
    PoliceReporting,
    Statement,
    SubjectInvolvement,
    SubjectRef,
    TermRef,
    TimelineEntry,
)
from app.chronology.text import count_text, day_text

NOT_IDENTIFIED = "Not identified"
NOT_ON_FILE = "Subject not on file"


@dataclass(frozen=True)
class Party:
    """A subject (or the not-identified party) with their incidents, in timeline order."""

    subject_id: UUID | None
    label: str
    relationship: str
    orders: tuple[Order, ...]
    warned_on: date | None
    incidents: tuple[IncidentFacts, ...]


def sort_key(incident: IncidentFacts) -> tuple[datetime, datetime, UUID]:
    return (incident.occurred_at, incident.recorded_at, incident.id)


def in_order(incidents: Iterable[IncidentFacts]) -> list[IncidentFacts]:
    """The incidents in timeline order; ValueError if an id appears twice."""
    ordered = sorted(incidents, key=sort_key)
    if len({i.id for i in ordered}) != len(ordered):
        raise ValueError("duplicate incident id")
    return ordered


def ids(incidents: Iterable[IncidentFacts]) -> list[UUID]:
    return [i.id for i in incidents]


def merge(
    ordered: Sequence[IncidentFacts], *groups: Sequence[IncidentFacts]
) -> list[IncidentFacts]:
    """The incidents in any of `groups`, in timeline order, each once."""
    wanted = {i.id for group in groups for i in group}
    return [i for i in ordered if i.id in wanted]


def incident_severity(incident: IncidentFacts) -> int | None:
    """The highest taxonomy severity among the incident's behaviours (None if none coded)."""
    return max((behaviour(code).severity for code in incident.behaviours), default=None)


def subject_label(subjects: dict[UUID, SubjectFacts], subject_id: UUID) -> str:
    subject = subjects.get(subject_id)
    return subject.label if subject is not None else NOT_ON_FILE


def parties(ordered: Sequence[IncidentFacts], subjects: Sequence[SubjectFacts]) -> list[Party]:
    """Everyone the incidents are attributed to, in order of their first incident; the
    not-identified party comes last."""
    by_id = {s.id: s for s in subjects}
    buckets: dict[UUID | None, list[IncidentFacts]] = {}
    for incident in ordered:
        for subject_id in dict.fromkeys(incident.subject_ids) or (None,):
            buckets.setdefault(subject_id, []).append(incident)
    result = []
    for subject_id, incidents in buckets.items():
        subject = by_id.get(subject_id) if subject_id is not None else None
        if subject is not None:
            result.append(
                Party(
                    subject.id,
                    subject.label,
                    subject.relationship,
                    subject.orders,
                    subject.warned_on,
                    tuple(incidents),
                )
            )
        else:
            name = NOT_IDENTIFIED if subject_id is None else NOT_ON_FILE
            result.append(Party(subject_id, name, "unknown", (), None, tuple(incidents)))
    return sorted(result, key=lambda party: party.subject_id is None)


# Models are immutable, so one instance per code is shared across a 10,000-entry timeline
# instead of being validated 10,000 times.
@cache
def _term(terms: tuple[Term, ...], code: str) -> TermRef:
    return TermRef(code=code, label=label(terms, code))


@cache
def behaviour_ref(code: str) -> TermRef:
    return TermRef(code=code, label=behaviour(code).label)


def timeline(
    ordered: Sequence[IncidentFacts], subjects: dict[UUID, SubjectFacts]
) -> list[TimelineEntry]:
    refs = {
        s: SubjectRef(subject_id=s, label=subject_label(subjects, s))
        for s in {s for i in ordered for s in i.subject_ids}
    }
    return [_entry(incident, refs) for incident in ordered]


def _entry(incident: IncidentFacts, refs: dict[UUID, SubjectRef]) -> TimelineEntry:
    delay = (incident.recorded_at - incident.occurred_at).total_seconds() / 86400
    return TimelineEntry(
        incident_id=incident.id,
        occurred_at=incident.occurred_at,
        precision=incident.precision,
        ended_at=incident.ended_at,
        recorded_at=incident.recorded_at,
        recorded_contemporaneously=incident.recorded_contemporaneously,
        recorded_after_days=round(delay, 1),
        behaviours=[behaviour_ref(code) for code in incident.behaviours],
        severity=incident_severity(incident),
        subjects=[refs[s] for s in dict.fromkeys(incident.subject_ids)],
        via_third_party=incident.via_third_party,
        channel=None if incident.channel is None else _term(CHANNEL_TERMS, incident.channel),
        platform=incident.platform,
        location=incident.location,
        description=incident.description,
        fear_of_violence=incident.fear_of_violence,
        alarm_or_distress=incident.alarm_or_distress,
        daily_life_changes=[_term(IMPACT_TERMS, c) for c in incident.daily_life_changes],
        victim_actions=[_term(VICTIM_ACTION_TERMS, c) for c in incident.victim_actions],
        witnesses=incident.witnesses,
        evidence_count=incident.evidence_count,
        reported_to_police=incident.reported_to_police,
        police_references=list(incident.police_references),
    )


def weeks_spanned(first: date, last: date) -> int:
    return math.ceil(((last - first).days + 1) / 7)


def period(ordered: Sequence[IncidentFacts]) -> Period:
    if not ordered:
        return Period(
            first_occurred_at=None,
            last_occurred_at=None,
            incident_count=0,
            distinct_days=0,
            weeks=0,
            statement=Statement(text="No incidents are recorded.", incident_ids=[]),
        )
    first, last = ordered[0], ordered[-1]
    days = len({i.occurred_on for i in ordered})
    weeks = weeks_spanned(first.occurred_on, last.occurred_on)
    text = (
        f"{count_text(len(ordered), 'incident')} on {count_text(days, 'day')} "
        f"from {day_text(first.occurred_on)} to {day_text(last.occurred_on)} "
        f"({count_text(weeks, 'week')})."
    )
    return Period(
        first_occurred_at=first.occurred_at,
        last_occurred_at=last.occurred_at,
        incident_count=len(ordered),
        distinct_days=days,
        weeks=weeks,
        statement=Statement(text=text, incident_ids=ids(ordered)),
    )


def order_info(order: Order) -> OrderInfo:
    kind = order_kind(order.kind)
    return OrderInfo(
        kind=TermRef(code=kind.code, label=kind.label),
        is_order=kind.is_order,
        starts_on=order.starts_on,
        ends_on=order.ends_on,
        conditions=order.conditions,
    )


def involvement(all_parties: Sequence[Party]) -> list[SubjectInvolvement]:
    return [
        SubjectInvolvement(
            subject_id=party.subject_id,
            label=party.label,
            relationship=_term(RELATIONSHIP_TERMS, party.relationship),
            incident_count=len(party.incidents),
            incident_ids=ids(party.incidents),
            via_third_party_incident_ids=[i.id for i in party.incidents if i.via_third_party],
            orders=[order_info(o) for o in party.orders],
            warned_on=party.warned_on,
        )
        for party in all_parties
    ]


def police_reporting(ordered: Sequence[IncidentFacts]) -> PoliceReporting:
    """Incidents reported to police, so separate crime reports can be linked as one course."""
    reported = [i for i in ordered if i.reported_to_police or i.police_references]
    references = list(dict.fromkeys(r for i in reported for r in i.police_references))
    unreferenced = sum(1 for i in reported if not i.police_references)
    if not reported:
        text = "No incident is recorded as reported to the police."
    elif not references:
        # Either none was written down or the scope withholds them: "under 0 reference numbers"
        # read as nonsense to an officer, so say only what this summary shows.
        text = (
            f"{count_text(len(reported), 'incident')} reported to the police; no crime reference "
            "number is shown in this summary."
        )
    else:
        text = (
            f"{count_text(len(reported), 'incident')} reported to the police, under "
            f"{count_text(len(references), 'distinct reference number')}"
            + (f" ({unreferenced} with no reference recorded)" if unreferenced else "")
            + "."
        )
    if len(reported) > 1:
        text += (
            " Incidents reported separately may form one course of conduct: consider linking"
            " the reports."
        )
    return PoliceReporting(
        statement=Statement(text=text, incident_ids=ids(reported)),
        references=references,
        reports=[
            PoliceReport(
                incident_id=i.id, occurred_at=i.occurred_at, references=list(i.police_references)
            )
            for i in reported
        ],
    )
