"""What was done: behaviours grouped as the law describes them, and the FOUR markers.

FOUR (College of Policing, "think stalking first"): Fixated, Obsessive, Unwanted, Repeated.
A marker is stated only with the incidents that show it; otherwise it reads "not indicated".
What counts as evidence for each marker is fixed here:
- Fixated: seeking the victim out or keeping track of them (the codes whose `fixated` is
  tracking: following, watching, loitering, monitoring); turning up at home or work; contacting
  or using people around the victim.
- Obsessive: persistence: contact through `MANY_CHANNELS` or more channels, incidents on
  `MANY_DAYS` or more days, or `BURST_PER_DAY` or more incidents on a single day.
- Unwanted: conduct continuing on or after an order or warning against that subject, or after
  the victim asked them to stop; contact (a `contact` behaviour, or any channel other than in
  person) continuing after she blocked them or changed phone or accounts; incidents coded as a
  breach; gifts recorded as unwanted; and any incident she recorded as causing fear, alarm or
  distress (so a stranger's campaign that distresses her is unwanted with no order or block).
Which code is evidence of which is a field of its row in app.chronology.codes.
- Repeated: two or more incidents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date

from app.chronology.codes import (
    BEHAVIOUR_GROUPS,
    BEHAVIOURS,
    CHANNEL_TERMS,
    Behaviour,
    behaviour,
    codes_where,
    label,
    order_kind,
)
from app.chronology.law import Jurisdiction, listed_codes, stalking_letter, stalking_provision
from app.chronology.model import IncidentFacts
from app.chronology.schemas import (
    BehaviourCount,
    BehaviourGroup,
    FourCode,
    FourMarker,
    FourMarkers,
    StalkingBehaviour,
    Statement,
)
from app.chronology.text import count_text, day_text, join_words
from app.chronology.timeline import Party, ids, weeks_spanned

MANY_CHANNELS = 3
MANY_DAYS = 10
BURST_PER_DAY = 3

# Which codes are evidence of what is a field of each code's row (app.chronology.codes).
TRACKING = codes_where(lambda b: b.fixated == "tracking")
TURNING_UP = codes_where(lambda b: b.fixated == "turning_up")
PEOPLE_AROUND = codes_where(lambda b: b.fixated == "people_around")
CONTACT = codes_where(lambda b: b.contact)
BREACH = codes_where(lambda b: b.breach)
UNWANTED = codes_where(lambda b: b.unwanted)
NOT_INDICATED = "Not indicated by the diary."


def with_any(incidents: Iterable[IncidentFacts], codes: Iterable[str]) -> list[IncidentFacts]:
    wanted = frozenset(codes)
    return [i for i in incidents if not wanted.isdisjoint(i.behaviours)]


def behaviour_groups(
    ordered: Sequence[IncidentFacts], jurisdiction: Jurisdiction
) -> list[BehaviourGroup]:
    """group -> behaviours -> incident ids, in taxonomy order, only what was recorded. A listed
    example of stalking carries its citation in the jurisdiction's own list (a Scottish or
    Northern Irish summary never shows a PHA letter)."""
    by_code: dict[str, list[IncidentFacts]] = {}
    for incident in ordered:
        for code in dict.fromkeys(incident.behaviours):
            by_code.setdefault(code, []).append(incident)
    groups = []
    for group in BEHAVIOUR_GROUPS:
        members = [b for b in BEHAVIOURS if b.group == group.code and b.code in by_code]
        if not members:
            continue
        in_group = {i.id for b in members for i in by_code[b.code]}
        groups.append(
            BehaviourGroup(
                group=group.code,
                label=group.label,
                incident_ids=[i.id for i in ordered if i.id in in_group],
                behaviours=[
                    BehaviourCount(
                        code=b.code,
                        label=b.label,
                        provision=_provision(jurisdiction, b),
                        severity=b.severity,
                        incident_ids=ids(by_code[b.code]),
                    )
                    for b in members
                ],
            )
        )
    return groups


def _provision(jurisdiction: Jurisdiction, b: Behaviour) -> str | None:
    letter = stalking_letter(jurisdiction, b)
    return None if letter is None else stalking_provision(jurisdiction, letter)[0]


def stalking_behaviours(
    ordered: Sequence[IncidentFacts], jurisdiction: Jurisdiction
) -> list[StalkingBehaviour]:
    """The listed examples of stalking behaviour that appear, by letter."""
    found = []
    for letter, codes in listed_codes(jurisdiction).items():
        incidents = with_any(ordered, codes)
        if not incidents:
            continue
        provision, wording = stalking_provision(jurisdiction, letter)
        recorded = set().union(*(i.behaviours for i in incidents))
        found.append(
            StalkingBehaviour(
                letter=letter,
                provision=provision,
                wording=wording,
                behaviour_codes=[c for c in codes if c in recorded],
                incident_ids=ids(incidents),
            )
        )
    return found


def _marker(code: FourCode, statements: list[Statement]) -> FourMarker:
    return FourMarker(
        marker=code,
        label=code.capitalize(),
        indicated=bool(statements),
        statements=statements or [Statement(text=NOT_INDICATED, incident_ids=[])],
    )


def _labels(codes: Iterable[str], incidents: Sequence[IncidentFacts]) -> str:
    recorded = set().union(*(i.behaviours for i in incidents))
    return join_words(behaviour(c).label.lower() for c in codes if c in recorded)


def _fixated(ordered: Sequence[IncidentFacts]) -> list[Statement]:
    statements = []
    tracking = with_any(ordered, TRACKING)
    if tracking:
        text = (
            f"Keeping watch on or track of the victim ({_labels(TRACKING, tracking)}): "
            f"{count_text(len(tracking), 'incident')}."
        )
        statements.append(Statement(text=text, incident_ids=ids(tracking)))
    turning_up = with_any(ordered, TURNING_UP)
    if turning_up:
        text = (
            "Turning up where the victim lives, works or studies: "
            f"{count_text(len(turning_up), 'incident')}."
        )
        statements.append(Statement(text=text, incident_ids=ids(turning_up)))
    around = frozenset(PEOPLE_AROUND)
    others = [i for i in ordered if i.via_third_party or not around.isdisjoint(i.behaviours)]
    if others:
        text = (
            "Contacting or using people around the victim (family, friends, colleagues or "
            f"others acting for the subject): {count_text(len(others), 'incident')}."
        )
        statements.append(Statement(text=text, incident_ids=ids(others)))
    return statements


def _obsessive(ordered: Sequence[IncidentFacts]) -> list[Statement]:
    statements = []
    with_channel = [i for i in ordered if i.channel is not None]
    channels = list(dict.fromkeys(i.channel for i in with_channel if i.channel is not None))
    if len(channels) >= MANY_CHANNELS:
        platforms = sorted({i.platform for i in with_channel if i.platform})
        text = (
            f"Contact through {len(channels)} different channels: "
            f"{join_words(label(CHANNEL_TERMS, c).lower() for c in channels)}"
            + (f" (platforms: {', '.join(platforms)})" if platforms else "")
            + "."
        )
        statements.append(Statement(text=text, incident_ids=ids(with_channel)))
    per_day = Counter(i.occurred_on for i in ordered)
    if len(per_day) >= MANY_DAYS:
        text = f"Incidents on {len(per_day)} different days."
        statements.append(Statement(text=text, incident_ids=ids(ordered)))
    burst_days = sorted(d for d, n in per_day.items() if n >= BURST_PER_DAY)
    if burst_days:
        busiest = max(burst_days, key=lambda d: (per_day[d], -d.toordinal()))
        text = (
            f"{BURST_PER_DAY} or more incidents in a single day on "
            f"{count_text(len(burst_days), 'day')} (the most: {per_day[busiest]} on "
            f"{day_text(busiest)})."
        )
        burst = set(burst_days)
        statements.append(
            Statement(text=text, incident_ids=[i.id for i in ordered if i.occurred_on in burst])
        )
    return statements


def _is_contact(incident: IncidentFacts) -> bool:
    remote = incident.channel is not None and incident.channel != "in_person"
    return remote or bool(set(CONTACT).intersection(incident.behaviours))


def _after(incidents: Iterable[IncidentFacts], day: date) -> list[IncidentFacts]:
    return [i for i in incidents if i.occurred_on >= day]


def _continued_after_actions(party: Party) -> list[Statement]:
    """Conduct by this party after the victim asked them to stop, contact after she blocked
    them: the first incident at which she did it, and everything of theirs after it."""
    statements = []
    who = party.label if party.subject_id is not None else "someone not identified"
    for action, what, conduct in (
        ("asked_to_stop", "asked them to stop", "Conduct attributed to"),
        ("blocked", "blocked them", "Contact from"),
    ):
        first = next((i for i in party.incidents if action in i.victim_actions), None)
        if first is None:
            continue
        later = [i for i in party.incidents if i.occurred_at > first.occurred_at]
        if action == "blocked":
            later = [i for i in later if _is_contact(i)]
        if later:
            text = (
                f"{conduct} {who} continued after the victim {what} on "
                f"{day_text(first.occurred_on)}: {count_text(len(later), 'incident')} since."
            )
            statements.append(Statement(text=text, incident_ids=ids([first, *later])))
    return statements


def _unwanted(ordered: Sequence[IncidentFacts], parties: Sequence[Party]) -> list[Statement]:
    """DOMAIN.md, FOUR: unwanted above all when it continued after she said so (asked them to
    stop, blocked them, changed her number, an order or warning); and whenever she recorded
    that it alarmed or distressed her, even with nothing else recorded (a stranger's campaign)."""
    statements = []
    for party in parties:
        statements += _continued_after_actions(party)
        warnings = [(order_kind(o.kind).label, o.starts_on) for o in party.orders]
        if party.warned_on is not None:
            warnings.append(("warning", party.warned_on))
        for name, starts_on in sorted(warnings, key=lambda w: (w[1], w[0])):
            after = _after(party.incidents, starts_on)
            if after:
                text = (
                    f"Conduct attributed to {party.label} continued on or after the {name.lower()} "
                    f"of {day_text(starts_on)}: {count_text(len(after), 'incident')}."
                )
                statements.append(Statement(text=text, incident_ids=ids(after)))
    coded = with_any(ordered, BREACH)
    if coded:
        text = (
            f"Recorded by the victim as a breach of an order: {count_text(len(coded), 'incident')}."
        )
        statements.append(Statement(text=text, incident_ids=ids(coded)))
    changed = next(
        (i for i in ordered if "changed_phone_or_accounts" in i.daily_life_changes), None
    )
    if changed is not None:
        later = [i for i in ordered if i.occurred_at > changed.occurred_at and _is_contact(i)]
        if later:
            text = (
                "Contact continued after the victim changed phone or accounts on "
                f"{day_text(changed.occurred_on)}: {count_text(len(later), 'incident')} since."
            )
            statements.append(Statement(text=text, incident_ids=ids([changed, *later])))
    gifts = with_any(ordered, UNWANTED)
    if gifts:
        text = f"Gifts the victim recorded as unwanted: {count_text(len(gifts), 'incident')}."
        statements.append(Statement(text=text, incident_ids=ids(gifts)))
    distressed = [i for i in ordered if i.alarm_or_distress or i.fear_of_violence]
    if distressed:
        text = (
            "The victim recorded that it caused fear, alarm or distress: "
            f"{count_text(len(distressed), 'incident')}."
        )
        statements.append(Statement(text=text, incident_ids=ids(distressed)))
    return statements


def _repeated(ordered: Sequence[IncidentFacts], parties: Sequence[Party]) -> list[Statement]:
    if len(ordered) < 2:
        return []
    statements = [_repeat_statement("", ordered)]
    if len(parties) > 1:
        statements += [
            _repeat_statement(f"{p.label}: ", p.incidents) for p in parties if len(p.incidents) > 1
        ]
    return statements


def _repeat_statement(prefix: str, incidents: Sequence[IncidentFacts]) -> Statement:
    days = len({i.occurred_on for i in incidents})
    weeks = weeks_spanned(incidents[0].occurred_on, incidents[-1].occurred_on)
    text = (
        f"{prefix}{count_text(len(incidents), 'incident')} on {count_text(days, 'day')} "
        f"over {count_text(weeks, 'week')}."
    )
    return Statement(text=text, incident_ids=ids(incidents))


def four_markers(ordered: Sequence[IncidentFacts], parties: Sequence[Party]) -> FourMarkers:
    return FourMarkers(
        fixated=_marker("fixated", _fixated(ordered)),
        obsessive=_marker("obsessive", _obsessive(ordered)),
        unwanted=_marker("unwanted", _unwanted(ordered, parties)),
        repeated=_marker("repeated", _repeated(ordered, parties)),
    )
