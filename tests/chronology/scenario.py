"""Builders for diaries: one incident at a time, and a realistic four-month stalking diary.

Incidents are named; their ids derive from the name (uuid5), so an expected id list reads as
a list of names and ids do not sort in the same order as the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from app.chronology.model import IncidentFacts, Order, SubjectFacts


def iid(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"incident:{name}")


def sid(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"subject:{name}")


def at(day: str, time: str = "18:30") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


def make_incident(
    name: str,
    day: str,
    behaviours: Iterable[str],
    *,
    subject: str | None = "daniel",
    time: str = "18:30",
    **facts: Any,
) -> IncidentFacts:
    occurred_at = at(day, time)
    facts.setdefault("recorded_at", occurred_at + timedelta(minutes=20))
    facts.setdefault("precision", "exact")
    return IncidentFacts(
        id=iid(name),
        occurred_at=occurred_at,
        behaviours=tuple(behaviours),
        subject_ids=() if subject is None else (sid(subject),),
        **facts,
    )


def make_subject(name: str, relationship: str = "ex_partner", **facts: Any) -> SubjectFacts:
    return SubjectFacts(id=sid(name), label=name.capitalize(), relationship=relationship, **facts)


NON_MOLESTATION = Order(
    kind="non_molestation_order",
    starts_on=date(2026, 3, 20),
    ends_on=date(2027, 3, 19),
    conditions="Not to contact her directly or indirectly; not to come within 100m of her home.",
)


@dataclass
class Diary:
    incidents: dict[str, IncidentFacts] = field(default_factory=dict)
    subjects: list[SubjectFacts] = field(default_factory=list)

    def add(self, name: str, day: str, behaviours: Iterable[str], **facts: Any) -> None:
        self.incidents[name] = make_incident(name, day, behaviours, **facts)

    @property
    def all(self) -> list[IncidentFacts]:
        return list(self.incidents.values())


def ids(*names: str) -> list[UUID]:
    return [iid(n) for n in names]


def stalking_diary() -> Diary:
    """Daniel, her ex-partner: texts, then turning up at work, loitering at home, damage to her
    car, a non-molestation order on 20 March 2026 that he breaches, contact with her sister
    through a friend, a threat to kill, a knife; and one unsigned gift on the doorstep."""
    d = Diary(subjects=[make_subject("daniel", orders=(NON_MOLESTATION,))])
    d.add("text_1", "2026-01-05", ["contacting"], channel="text_message")
    d.add("text_2", "2026-01-12", ["contacting"], channel="text_message")
    d.add("dm_1", "2026-01-20", ["contacting"], channel="social_media", platform="Instagram")
    d.add("email_1", "2026-02-02", ["contacting"], channel="email", alarm_or_distress=True)
    d.add("gift", "2026-02-10", ["unwanted_gifts"], subject=None, location="Doorstep")
    d.add(
        "work_1",
        "2026-02-16",
        ["turning_up_at_work"],
        channel="in_person",
        alarm_or_distress=True,
        reported_to_police=True,
        police_references=("CR/1001/26",),
        witnesses="Receptionist",
    )
    d.add("loiter_1", "2026-02-27", ["loitering", "watching_or_spying"], channel="in_person")
    d.add(
        "car",
        "2026-03-10",
        ["damage_to_property"],
        location="Car park",
        reported_to_police=True,
        police_references=("CR/2002/26",),
        evidence_count=3,
    )
    d.add(
        "call_1",
        "2026-03-14",
        ["contacting"],
        channel="phone_call",
        alarm_or_distress=True,
        daily_life_changes=("changed_phone_or_accounts",),
    )
    d.add("new_number", "2026-03-25", ["contacting"], channel="messaging_app")
    d.add(
        "sister",
        "2026-04-02",
        ["third_party_contact"],
        channel="via_third_party",
        via_third_party=True,
        description="His friend Mark asked my sister where I live now.",
    )
    d.add(
        "home_1",
        "2026-04-06",
        ["turning_up_at_home", "loitering"],
        channel="in_person",
        fear_of_violence=True,
        daily_life_changes=("changed_route",),
    )
    d.add(
        "kill",
        "2026-04-08",
        ["threat_to_kill", "breach_of_order"],
        channel="text_message",
        fear_of_violence=True,
        reported_to_police=True,
        police_references=("CR/3003/26",),
    )
    d.add("work_2", "2026-04-09", ["turning_up_at_work"], channel="in_person")
    d.add("home_2", "2026-04-10", ["turning_up_at_home"], channel="in_person")
    d.add("home_3", "2026-04-11", ["turning_up_at_home"], channel="in_person")
    d.add(
        "knife",
        "2026-04-14",
        ["threat_of_violence", "weapon"],
        channel="in_person",
        fear_of_violence=True,
        alarm_or_distress=True,
        daily_life_changes=("moved_home",),
        police_references=("CR/3003/26",),
        reported_to_police=True,
    )
    d.add("email_hack", "2026-04-20", ["monitoring_communications"], channel="email")
    return d


DANIEL = [
    "text_1",
    "text_2",
    "dm_1",
    "email_1",
    "work_1",
    "loiter_1",
    "car",
    "call_1",
    "new_number",
    "sister",
    "home_1",
    "kill",
    "work_2",
    "home_2",
    "home_3",
    "knife",
    "email_hack",
]
EVERYTHING = [*DANIEL[:4], "gift", *DANIEL[4:]]
