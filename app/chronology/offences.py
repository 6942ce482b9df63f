"""Course of conduct per subject, and the offences an officer should consider.

Each offence is worked out per party (a subject, or the incidents with no subject recorded),
because a course of conduct is one person's. The rules, all on recorded facts only:
- course of conduct: at least two incidents attributed to the party (third-party conduct
  included, s.7(3A)); caveats for long gaps (Lau v DPP) and for incidents all on one day;
- England and Wales: harassment s.2 (course of conduct); stalking s.2A (course of conduct and at
  least one s.2A(3) behaviour, and when it is not indicated, why: "think stalking first"); fear
  of violence s.4 (course of conduct and fear of violence recorded on at least two incidents);
  s.4A (stalking and either fear of violence on two incidents, or alarm or distress together
  with recorded changes to daily life);
- Scotland: threatening or abusive behaviour s.38 (a single act can be enough; it turns on the
  behaviour, not on fear or alarm alone) and stalking s.39 (course of conduct that caused fear or
  alarm); Northern Ireland: the 2022 Act's s.2 and s.1 likewise, for conduct from 27 April 2022
  (not retrospective), and harassment under the 1997 Order art.4 at any date;
- breach of an order: an incident by the subject while an order against them was in force
  (see `orders.py`), or an incident the victim coded as a breach.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.chronology.behaviours import BREACH, with_any
from app.chronology.codes import CHANNEL_TERMS, IMPACT_TERMS, behaviour, codes_where, label
from app.chronology.frequency import gap_analysis
from app.chronology.law import (
    BREACH_LAW,
    LAU_CAVEAT,
    NI_BEFORE_THE_ACT,
    NI_HARASSMENT_LAW,
    NI_STALKING_IN_FORCE,
    NOT_INDICATED,
    STALKING_LAW,
    THREATENING_LAW,
    Jurisdiction,
    course_of_conduct_law,
    listed_codes,
    stalking_list_name,
    stalking_provision,
)
from app.chronology.model import IncidentFacts
from app.chronology.schemas import CourseOfConduct, OffenceIndicator, OrderBreach, Statement
from app.chronology.text import count_text, day_text, join_words
from app.chronology.timeline import Party, ids, merge

# Threatening or abusive behaviour (s.38 / NI s.2) is a field of each code's row.

THREATENING = codes_where(lambda b: b.threatening)


def course_of_conduct(party: Party, jurisdiction: Jurisdiction) -> CourseOfConduct:
    incidents = party.incidents
    met = len(incidents) >= 2
    days = len({i.occurred_on for i in incidents})
    if met:
        proxy = sum(1 for i in incidents if i.via_third_party)
        text = (
            f"Conduct on {count_text(len(incidents), 'occasion')} ({count_text(days, 'day')}, "
            f"{day_text(incidents[0].occurred_on)} to {day_text(incidents[-1].occurred_on)}) "
            f"{_attributed(party)}"
            + (f", {proxy} of them through another person" if proxy else "")
            + ": this may be a course of conduct."
        )
    else:
        text = (
            f"A single incident {_attributed(party)}: a course of conduct needs conduct on at "
            "least two occasions. Later incidents may be linked to it."
        )
    return CourseOfConduct(
        subject_id=party.subject_id,
        subject_label=party.label,
        met=met,
        law=course_of_conduct_law(jurisdiction),
        statement=Statement(text=text, incident_ids=ids(incidents)),
        caveats=_caveats(party) if met else [],
    )


def _attributed(party: Party) -> str:
    if party.subject_id is None:
        return "has no subject recorded"
    return f"is attributed to {party.label}"


def _caveats(party: Party) -> list[Statement]:
    caveats = []
    gaps = gap_analysis(party.incidents)
    if gaps.longest is not None:
        text = f"The longest gap between these incidents is {gaps.longest.days} days."
        pair = [gaps.longest.from_incident_id, gaps.longest.to_incident_id]
        if gaps.long_gaps:
            text += f" {LAU_CAVEAT}"
        caveats.append(Statement(text=text, incident_ids=pair))
    if len({i.occurred_on for i in party.incidents}) == 1:
        text = (
            "All of these incidents were on one day: consider whether they are separate occasions."
        )
        caveats.append(Statement(text=text, incident_ids=ids(party.incidents)))
    if party.subject_id is None:
        text = (
            "Who was responsible is not recorded for these incidents; a course of conduct must be "
            "one person's. Consider whether they are linked to a known subject."
        )
        caveats.append(Statement(text=text, incident_ids=ids(party.incidents)))
    return caveats


def offences(
    party: Party,
    course: CourseOfConduct,
    found_breaches: Sequence[OrderBreach],
    jurisdiction: Jurisdiction,
) -> list[OffenceIndicator]:
    """The offences to consider for one party, in the order an officer would weigh them."""
    breach = _breach_of_order(party, found_breaches, jurisdiction)
    if jurisdiction == "scotland":
        return [_s38(party, jurisdiction), _s39(party, course, jurisdiction), breach]
    if jurisdiction == "northern_ireland":
        # Harassment stays the 1997 Order's, for conduct before the 2022 Act and after it.
        return [
            _s38(party, jurisdiction),
            _s39(party, course, jurisdiction),
            _harassment(party, course, NI_HARASSMENT_LAW),
            breach,
        ]
    stalking = _stalking(party, course)
    return [
        _harassment(party, course, "PHA 1997 s.1 and s.2"),
        stalking,
        _fear_of_violence(party, course),
        _s4a(party, stalking),
        breach,
    ]


def _offence(
    party: Party,
    code: str,
    title: str,
    law: str,
    indicated: bool,
    facts: list[Statement],
    incidents: Sequence[IncidentFacts],
) -> OffenceIndicator:
    return OffenceIndicator(
        code=code,
        title=title,
        law=law,
        subject_id=party.subject_id,
        subject_label=party.label,
        indicated=indicated,
        facts=facts,
        incident_ids=ids(incidents),
    )


def _harassment(party: Party, course: CourseOfConduct, law: str) -> OffenceIndicator:
    facts = [course.statement]
    alarmed = [i for i in party.incidents if i.alarm_or_distress]
    if alarmed:
        where = " (s.7(2))" if law.startswith("PHA") else ""
        text = f"Alarm or distress recorded{where}: {count_text(len(alarmed), 'incident')}."
        facts.append(Statement(text=text, incident_ids=ids(alarmed)))
    return _offence(
        party,
        "harassment",
        "Harassment",
        law,
        course.met,
        facts,
        party.incidents,
    )


def _listed(
    party: Party, jurisdiction: Jurisdiction
) -> tuple[list[Statement], list[IncidentFacts]]:
    """One fact per listed stalking behaviour recorded, and the incidents showing any of them."""
    facts, shown = [], []
    for letter, codes in listed_codes(jurisdiction).items():
        incidents = with_any(party.incidents, codes)
        if incidents:
            provision, wording = stalking_provision(jurisdiction, letter)
            text = f"{provision}, {wording}: {count_text(len(incidents), 'incident')}."
            facts.append(Statement(text=text, incident_ids=ids(incidents)))
            shown.extend(incidents)
    return facts, merge(party.incidents, shown)


def _why_not_stalking(party: Party) -> list[Statement]:
    recorded = join_words(
        dict.fromkeys(behaviour(c).label.lower() for i in party.incidents for c in i.behaviours)
    )
    facts = [
        Statement(
            text=(
                f"No behaviour recorded is one of {stalking_list_name('england_wales')}"
                + (f" (recorded: {recorded})" if recorded else "")
                + ". That list gives examples only: think stalking first, consider whether the "
                "conduct is fixated, obsessive, unwanted and repeated, and record why it is not "
                "stalking if it is charged as harassment."
            ),
            incident_ids=ids(party.incidents),
        )
    ]
    contacted = [i for i in party.incidents if i.channel is not None]
    if contacted:
        channels = join_words(
            dict.fromkeys(label(CHANNEL_TERMS, i.channel).lower() for i in contacted if i.channel)
        )
        text = (
            f"{count_text(len(contacted), 'incident records', 'incidents record')} a means of "
            f"contact ({channels}): "
            "contacting or attempting to contact a person by any means is s.2A(3)(b)."
        )
        facts.append(Statement(text=text, incident_ids=ids(contacted)))
    return facts


def _stalking(party: Party, course: CourseOfConduct) -> OffenceIndicator:
    listed_facts, listed = _listed(party, "england_wales")
    indicated = course.met and bool(listed)
    facts = [course.statement, *listed_facts]
    if course.met and not listed:
        facts += _why_not_stalking(party)
    return _offence(party, "stalking", "Stalking", "PHA 1997 s.2A", indicated, facts, listed)


def _fear_fact(fear: list[IncidentFacts]) -> Statement:
    if not fear:
        text = "Fear of violence is not recorded for any incident."
    elif len(fear) == 1:
        text = "Fear of violence is recorded on only one occasion; at least two are needed."
    else:
        text = f"Fear of violence recorded on {count_text(len(fear), 'occasion')}."
    return Statement(text=text, incident_ids=ids(fear))


def _fear_of_violence(party: Party, course: CourseOfConduct) -> OffenceIndicator:
    fear = [i for i in party.incidents if i.fear_of_violence]
    return _offence(
        party,
        "fear_of_violence",
        "Putting people in fear of violence",
        "PHA 1997 s.4",
        course.met and len(fear) >= 2,
        [course.statement, _fear_fact(fear)],
        fear,
    )


def _s4a(party: Party, stalking: OffenceIndicator) -> OffenceIndicator:
    fear = [i for i in party.incidents if i.fear_of_violence]
    alarmed = [i for i in party.incidents if i.alarm_or_distress]
    changed = [i for i in party.incidents if i.daily_life_changes]
    serious = bool(alarmed and changed)
    verdict = "is" if stalking.indicated else "is not"
    facts = [
        Statement(text=f"Stalking (s.2A) {verdict} indicated.", incident_ids=stalking.incident_ids),
        _fear_fact(fear),
    ]
    if alarmed:
        text = f"Alarm or distress recorded: {count_text(len(alarmed), 'incident')}."
        facts.append(Statement(text=text, incident_ids=ids(alarmed)))
    if changed:
        impacts = join_words(
            dict.fromkeys(
                label(IMPACT_TERMS, c).lower() for i in changed for c in i.daily_life_changes
            )
        )
        text = (
            f"Changes to daily life recorded ({impacts}): {count_text(len(changed), 'incident')}. "
            "A substantial adverse effect on usual day-to-day activities is part of s.4A."
        )
        facts.append(Statement(text=text, incident_ids=ids(changed)))
    shown = merge(
        party.incidents, fear if len(fear) >= 2 else [], *([alarmed, changed] if serious else [])
    )
    return _offence(
        party,
        "stalking_fear_or_alarm",
        "Stalking involving fear of violence or serious alarm or distress",
        "PHA 1997 s.4A",
        stalking.indicated and (len(fear) >= 2 or serious),
        facts,
        shown,
    )


def _s38(party: Party, jurisdiction: Jurisdiction) -> OffenceIndicator:
    """Threatening or abusive behaviour: CJLSA 2010 s.38, or PSA NI 2022 s.2 (in force, like
    s.1, from 27 April 2022). It turns on the behaviour: the incidents that point to it are the
    threatening or abusive ones; fear or alarm recorded alone does not indicate it."""
    threatening = with_any(party.incidents, THREATENING)
    before: list[IncidentFacts] = []
    if jurisdiction == "northern_ireland":
        before = [i for i in threatening if i.occurred_on < NI_STALKING_IN_FORCE]
        threatening = [i for i in threatening if i.occurred_on >= NI_STALKING_IN_FORCE]
    afraid = [i for i in party.incidents if i.fear_of_violence or i.alarm_or_distress]
    section = "s.38" if jurisdiction == "scotland" else "s.2"
    facts = []
    if threatening:
        text = (
            f"Threatening or abusive behaviour recorded: "
            f"{count_text(len(threatening), 'incident')}. A single act can be enough."
        )
        facts.append(Statement(text=text, incident_ids=ids(threatening)))
        with_fear = [i for i in threatening if i in afraid]
        if with_fear:
            text = f"Fear or alarm recorded with it: {count_text(len(with_fear), 'incident')}."
            facts.append(Statement(text=text, incident_ids=ids(with_fear)))
    elif before:
        text = (
            f"{count_text(len(before), 'incident')} of threatening or abusive behaviour "
            f"{'is' if len(before) == 1 else 'are'} {NI_BEFORE_THE_ACT}"
        )
        facts.append(Statement(text=text, incident_ids=ids(before)))
    else:
        if afraid:
            text = f"Fear or alarm recorded: {count_text(len(afraid), 'incident')}."
            facts.append(Statement(text=text, incident_ids=ids(afraid)))
        facts.append(
            Statement(
                text=(
                    f"{NOT_INDICATED}{section} needs behaviour that is threatening or abusive, "
                    "such as threats, abuse, violence or a weapon, likely to cause a reasonable "
                    "person fear or alarm; fear or alarm recorded alone does not show it. Ask "
                    "the victim what was said or done."
                ),
                incident_ids=[],
            )
        )
    return _offence(
        party,
        "threatening_or_abusive_behaviour",
        "Threatening or abusive behaviour",
        THREATENING_LAW[jurisdiction],
        bool(threatening),
        facts,
        threatening,
    )


def _s39(party: Party, course: CourseOfConduct, jurisdiction: Jurisdiction) -> OffenceIndicator:
    """Stalking: CJLSA 2010 s.39, or PSA NI 2022 s.1 (fear, alarm or substantial distress)."""
    listed_facts, listed = _listed(party, jurisdiction)
    afraid = [i for i in party.incidents if i.fear_of_violence or i.alarm_or_distress]
    facts = [course.statement, *listed_facts]
    if afraid:
        text = f"Fear or alarm recorded: {count_text(len(afraid), 'incident')}."
    elif jurisdiction == "northern_ireland":
        text = (
            "Stalking under s.1 needs the course of conduct to cause fear, alarm or substantial "
            "distress (or to be likely to), and none is recorded: ask the victim. Conduct "
            "outside the s.1(4) list counts if a reasonable person would expect it to cause "
            "fear, alarm or substantial distress."
        )
    else:
        text = (
            "Stalking under s.39 needs the course of conduct to cause fear or alarm, and none is "
            "recorded: ask the victim. Conduct outside the s.39(6) list counts if a reasonable "
            "person would expect it to cause fear or alarm (s.39(6)(j))."
        )
    facts.append(Statement(text=text, incident_ids=ids(afraid)))
    before = [i for i in party.incidents if i.occurred_on < NI_STALKING_IN_FORCE]
    if jurisdiction == "northern_ireland" and before:
        text = f"{count_text(len(before), 'incident is', 'incidents are')} {NI_BEFORE_THE_ACT}"
        facts.append(Statement(text=text, incident_ids=ids(before)))
    after = [i for i in party.incidents if i.occurred_on >= NI_STALKING_IN_FORCE]
    in_force = jurisdiction != "northern_ireland" or len(after) >= 2
    indicated = course.met and bool(afraid) and in_force
    if course.met and not indicated:
        facts.append(Statement(text=_why_not_s39(jurisdiction, afraid, in_force), incident_ids=[]))
    return _offence(
        party,
        "stalking",
        "Stalking",
        STALKING_LAW[jurisdiction],
        indicated,
        facts,
        merge(party.incidents, listed, afraid),
    )


def _why_not_s39(jurisdiction: Jurisdiction, afraid: list[IncidentFacts], in_force: bool) -> str:
    """The reasons, in the officer's terms; the risk box's first lines quote them."""
    reasons = []
    if not afraid:
        feeling = {"scotland": "fear or alarm"}.get(
            jurisdiction, "fear, alarm or substantial distress"
        )
        reasons.append(f"no {feeling} is recorded for the course of conduct (ask the victim)")
    if not in_force:
        reasons.append(
            "fewer than two incidents are on or after 27 April 2022, when the Act came into force"
        )
    return f"{NOT_INDICATED}{'; and '.join(reasons)}."


def _breach_of_order(
    party: Party, found_breaches: Sequence[OrderBreach], jurisdiction: Jurisdiction
) -> OffenceIndicator:
    mine = [
        b
        for b in found_breaches
        if party.subject_id is not None and b.subject_id == party.subject_id
    ]
    during = {i for b in mine for i in b.incident_ids}
    coded = with_any(party.incidents, BREACH)
    facts = [b.statement for b in mine]
    if coded:
        text = (
            f"Recorded by the victim as a breach of an order: {count_text(len(coded), 'incident')}."
        )
        facts.append(Statement(text=text, incident_ids=ids(coded)))
    if mine or coded:
        facts.append(Statement(text=BREACH_LAW[jurisdiction], incident_ids=[]))
    else:
        text = (
            "No order is recorded as in force during these incidents, and none is coded a breach."
        )
        facts.append(Statement(text=text, incident_ids=[]))
    during.update(i.id for i in coded)
    shown = [i for i in party.incidents if i.id in during]
    return _offence(
        party,
        "breach_of_order",
        "Breach of an order",
        "depends on the kind of order and its terms",
        bool(shown),
        facts,
        shown,
    )
