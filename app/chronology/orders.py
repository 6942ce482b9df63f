"""Orders: which incidents fall while an order against their subject was in force.

An incident counts when its subject is the one the order is against and its date lies within the
order's dates, first and last day included (the time of service is not recorded, so an incident
on the day of service is listed for the officer to check). An incident dated only to a month that
overlaps the order's dates is listed apart as date-uncertain. A warning such as a Police
Information Notice is not an order: conduct after it is "unwanted" (FOUR), never a breach.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from uuid import UUID

from app.chronology.codes import order_kind
from app.chronology.model import IncidentFacts, Order
from app.chronology.schemas import OrderBreach, Statement
from app.chronology.text import count_text, day_text
from app.chronology.timeline import Party, ids, merge, order_info


def _possible_days(incident: IncidentFacts) -> tuple[date, date]:
    day = incident.occurred_on
    if incident.precision == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    return day, day


def _during(
    order: Order, incidents: Sequence[IncidentFacts]
) -> tuple[list[IncidentFacts], list[IncidentFacts]]:
    """(incidents certainly within the order's dates, incidents whose month straddles them)."""
    certain, uncertain = [], []
    end = order.ends_on or date.max
    for incident in incidents:
        first, last = _possible_days(incident)
        if order.starts_on <= first and last <= end:
            certain.append(incident)
        elif first <= end and order.starts_on <= last:
            uncertain.append(incident)
    return certain, uncertain


def breaches(parties: Sequence[Party]) -> list[OrderBreach]:
    """Incidents by each subject while an order against them was in force."""
    found = []
    for party in parties:
        if party.subject_id is None:
            continue
        for order in sorted(party.orders, key=lambda o: (o.starts_on, o.kind)):
            if not order_kind(order.kind).is_order:
                continue
            certain, uncertain = _during(order, party.incidents)
            if certain or uncertain:
                found.append(_breach(party.subject_id, party, order, certain, uncertain))
    return found


def _breach(
    subject_id: UUID,
    party: Party,
    order: Order,
    certain: list[IncidentFacts],
    uncertain: list[IncidentFacts],
) -> OrderBreach:
    until = f"to {day_text(order.ends_on)}" if order.ends_on else "with no end date"
    terms = (
        f'the terms recorded: "{order.conditions}"'
        if order.conditions.strip()
        else "the order's terms (none are recorded here)."
    )
    text = (
        f"{count_text(len(certain), 'incident')} attributed to {party.label} while the "
        f"{order_kind(order.kind).label.lower()} ({day_text(order.starts_on)} {until}) was in "
        f"force. Check each incident against {terms}"
    )
    if uncertain:
        text += (
            f" {count_text(len(uncertain), 'incident is', 'incidents are')} dated only to a month "
            "that overlaps the order's dates: check whether they fall within them."
        )
    return OrderBreach(
        subject_id=subject_id,
        subject_label=party.label,
        order=order_info(order),
        incident_ids=ids(certain),
        date_uncertain_incident_ids=ids(uncertain),
        statement=Statement(
            text=text, incident_ids=ids(merge(party.incidents, certain, uncertain))
        ),
    )
