"""Risk first: the risk markers the summary opens with, and S-DASH stalking screening.

S-DASH (2009) identifies risk to act on now; it does not predict. The diary can suggest "yes"
to some of its questions, each with the incidents behind the suggestion; the person answering
(victim, caseworker or officer) decides. Nothing here produces a score presented as a
prediction, and the licensed SASH screening tool is deliberately not embedded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from uuid import UUID

from app.chronology.behaviours import with_any
from app.chronology.codes import RELATIONSHIP_CODES, RiskMarkerCode, SdashEvidence, codes_where
from app.chronology.model import IncidentFacts, SubjectFacts, require_aware
from app.chronology.schemas import (
    OrderBreach,
    RiskMarker,
    SdashFlag,
    SdashQuestion,
    SdashResult,
    Suggestion,
    Trend,
)
from app.chronology.text import count_text, day_text, join_words
from app.chronology.timeline import Party, ids, in_order

# Which codes raise which marker, and are evidence for which S-DASH question, is a field of
# each code's row (app.chronology.codes: `risk_marker`, `sdash`, `breach`); the order of the
# markers and their titles are here. q8 asks about acting violently: a weapon shown or
# mentioned is a threat, not violence, so `weapon` is not q8 evidence.
THREATS = codes_where(lambda b: b.group == "threats")
BREACH = codes_where(lambda b: b.breach)


def _marker_codes(marker: RiskMarkerCode) -> tuple[str, ...]:
    return codes_where(lambda b: b.risk_marker == marker)


def _evidence(question_id: SdashEvidence) -> tuple[str, ...]:
    return codes_where(lambda b: b.sdash == question_id)


# "Yes" answers at or above this count lead to advice to refer. The product's own choice of
# threshold, not a published S-DASH cut-off: any single "yes" can still matter.
REFERRAL_YES_COUNT = 5

SDASH_QUESTIONS: tuple[SdashQuestion, ...] = tuple(
    SdashQuestion(id=f"q{n}", text=text)
    for n, text in enumerate(
        (
            "Is the victim very frightened?",
            "Has the suspect harassed this or other victims before?",
            "Has the suspect destroyed or vandalised the victim's property?",
            "Does the suspect turn up at the victim's work, home, etc. more than three times "
            "a week?",
            "Has the suspect loitered around the victim's home, workplace, etc.?",
            "Has the suspect threatened physical or sexual violence in the current harassment?",
            "Has the suspect harassed any third party since the harassment began (friends, "
            "family, children, colleagues, partners, neighbours)?",
            "Has the suspect acted violently towards people in the current stalking?",
            "Has the suspect got other people to help, wittingly or not?",
            "Is the suspect known to abuse drugs or alcohol?",
            "Is the suspect known to have been violent in the past?",
        ),
        start=1,
    )
)
_QUESTION_TEXT = {q.id: q.text for q in SDASH_QUESTIONS}
ANSWERS = frozenset({"yes", "no", "unknown"})


def _marker(code: str, title: str, text: str, incidents: Sequence[IncidentFacts]) -> RiskMarker:
    return RiskMarker(code=code, title=title, text=text, incident_ids=ids(incidents))


def _simple(ordered: Sequence[IncidentFacts], code: RiskMarkerCode, title: str) -> list[RiskMarker]:
    found = with_any(ordered, _marker_codes(code))
    if not found:
        return []
    text = f"{title} recorded: {count_text(len(found), 'incident')}."
    return [_marker(code, title, text, found)]


def _ex_partner_threats(parties: Sequence[Party]) -> list[RiskMarker]:
    markers = []
    for party in parties:
        threats = with_any(party.incidents, THREATS)
        if party.relationship == "ex_partner" and threats:
            text = (
                f"{party.label}, an ex-partner, has threatened violence "
                f"({count_text(len(threats), 'incident')}). Ex-partners who threaten violence "
                "are the highest-risk group: treat the risk as high and act on it now."
            )
            markers.append(_marker("ex_partner_threats", "Ex-partner threats", text, threats))
    return markers


def _escalation(ordered: Sequence[IncidentFacts], trend: Trend) -> list[RiskMarker]:
    parts = [p for p in (trend.frequency, trend.severity) if p.direction == "escalating"]
    if not parts:
        return []
    cited = {i for p in parts for i in p.statement.incident_ids}
    text = " ".join(p.statement.text for p in parts)
    return [_marker("escalation", "Escalation", text, [i for i in ordered if i.id in cited])]


def _breach(ordered: Sequence[IncidentFacts], breaches: Sequence[OrderBreach]) -> list[RiskMarker]:
    cited = {i for b in breaches for i in b.incident_ids}
    cited.update(i.id for i in with_any(ordered, BREACH))
    if not cited:
        return []
    found = [i for i in ordered if i.id in cited]
    text = (
        f"Possible breach of an order: {count_text(len(found), 'incident')} while an order was "
        "in force or recorded as a breach."
    )
    return [_marker("breach_of_order", "Breach of an order", text, found)]


def _third_party(ordered: Sequence[IncidentFacts]) -> list[RiskMarker]:
    codes = frozenset(_marker_codes("third_party_contact"))
    found = [i for i in ordered if i.via_third_party or not codes.isdisjoint(i.behaviours)]
    if not found:
        return []
    text = (
        "Contact with, or through, the victim's family, friends, colleagues or others: "
        f"{count_text(len(found), 'incident')}."
    )
    return [_marker("third_party_contact", "Third-party contact", text, found)]


def risk_markers(
    ordered: Sequence[IncidentFacts],
    parties: Sequence[Party],
    trend: Trend,
    breaches: Sequence[OrderBreach],
) -> list[RiskMarker]:
    """The risk markers present, most serious first, each with its incidents."""
    return [
        *_simple(ordered, "strangulation", "Strangulation or choking"),
        *_simple(ordered, "weapon", "Weapon"),
        *_simple(ordered, "violence", "Physical violence"),
        *_ex_partner_threats(parties),
        *_simple(ordered, "threat_to_kill", "Threat to kill"),
        *_simple(ordered, "threat_of_violence", "Threat of violence"),
        *_simple(ordered, "sexual_behaviour", "Sexual behaviour"),
        *_breach(ordered, breaches),
        *_escalation(ordered, trend),
        *_simple(ordered, "turning_up", "Turning up at home or work"),
        *_third_party(ordered),
    ]


def _suggest(question_id: str, reason: str, incidents: Sequence[IncidentFacts]) -> Suggestion:
    return Suggestion(
        question_id=question_id,
        question=_QUESTION_TEXT[question_id],
        suggested_answer="yes",
        reason=reason,
        incident_ids=ids(incidents),
    )


def _recorded(what: str, incidents: Sequence[IncidentFacts]) -> str:
    return (
        f"{what} recorded in {count_text(len(incidents), 'incident')}, the latest on "
        f"{day_text(incidents[-1].occurred_on)}."
    )


def _busy_weeks(incidents: Sequence[IncidentFacts]) -> tuple[list[str], list[IncidentFacts]]:
    """ISO weeks with more than three turning-up incidents, and those incidents."""
    weeks: dict[date, list[IncidentFacts]] = {}
    for incident in with_any(incidents, _evidence("q4")):
        day = incident.occurred_on
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(incident)
    busy = sorted(start for start, found in weeks.items() if len(found) > 3)
    names = []
    for start in busy:
        year, week, _ = start.isocalendar()
        names.append(f"{year}-W{week:02d} ({len(weeks[start])} times)")
    return names, [i for start in busy for i in weeks[start]]


def suggest_sdash_answers(
    incidents: Sequence[IncidentFacts],
    subjects: Sequence[SubjectFacts],
    *,
    as_of: datetime,
    subject_id: UUID | None = None,
) -> list[Suggestion]:
    """ "Yes" suggestions the diary supports, up to `as_of`, optionally for one subject only.

    Only q1 and q3-q9 can be read from a diary; q2, q10 and q11 need knowledge of the suspect.
    """
    as_of = require_aware("as_of", as_of)
    if subject_id is not None and subject_id not in {s.id for s in subjects}:
        raise ValueError("unknown subject")
    ordered = [
        i
        for i in in_order(incidents)
        if i.occurred_at <= as_of and (subject_id is None or subject_id in i.subject_ids)
    ]
    suggestions = []
    if fear := [i for i in ordered if i.fear_of_violence]:
        reason = _recorded("Fear of violence", fear) + " Ask how frightened the victim is now."
        suggestions.append(_suggest("q1", reason, fear))
    if damaged := with_any(ordered, _evidence("q3")):
        suggestions.append(_suggest("q3", _recorded("Damage or interference", damaged), damaged))
    weeks, visits = _busy_weeks(ordered)
    if weeks:
        reason = f"Turned up at home or work more than three times in a week: {join_words(weeks)}."
        suggestions.append(_suggest("q4", reason, visits))
    if loitering := with_any(ordered, _evidence("q5")):
        suggestions.append(_suggest("q5", _recorded("Loitering", loitering), loitering))
    if threats := with_any(ordered, _evidence("q6")):
        suggestions.append(_suggest("q6", _recorded("Threats of violence", threats), threats))
    if others := with_any(ordered, _evidence("q7")):
        reason = _recorded("Contact with the victim's family, friends or colleagues", others)
        suggestions.append(_suggest("q7", reason, others))
    if violent := with_any(ordered, _evidence("q8")):
        suggestions.append(_suggest("q8", _recorded("Violence", violent), violent))
    if helped := [i for i in ordered if i.via_third_party]:
        reason = _recorded("Conduct through another person", helped)
        suggestions.append(_suggest("q9", reason, helped))
    return suggestions


ADVICE_ALWAYS = (
    "In an emergency, or if you are in danger now, call 999. If you cannot speak, stay on the "
    "line and press 55 when asked (from a mobile).",
    "The National Stalking Helpline (0808 802 0300) gives advice to victims and to the people "
    "supporting them.",
)

SDASH_NOTE = (
    "S-DASH identifies risk so that it can be acted on; it does not predict what will happen. "
    "Each 'yes' is a risk factor present now, and the more there are, the higher the risk. "
    "The person answering decides every answer."
)


def sdash_result(answers: Mapping[str, str], *, relationship: str | None = None) -> SdashResult:
    """Count the "yes" answers and raise the flags they call for; ValueError on bad input.

    `answers` maps question ids (q1..q11) to "yes", "no" or "unknown"; `relationship` is the
    suspect's taxonomy relationship, used to flag the highest-risk group.
    """
    unknown = sorted(set(answers) - set(_QUESTION_TEXT))
    if unknown:
        raise ValueError(f"unknown S-DASH question(s): {', '.join(unknown)}")
    if any(value not in ANSWERS for value in answers.values()):
        raise ValueError("an S-DASH answer must be yes, no or unknown")
    if relationship is not None and relationship not in RELATIONSHIP_CODES:
        raise ValueError("unknown relationship")
    yes = [q.id for q in SDASH_QUESTIONS if answers.get(q.id) == "yes"]
    flags = _flags(set(yes), relationship)
    advice = list(ADVICE_ALWAYS)
    if flags or len(yes) >= REFERRAL_YES_COUNT:
        advice.append(
            "Refer to a specialist stalking advocacy service, and report to the police if this "
            "has not been reported; give them these answers and the diary summary."
        )
    if any(f.code == "ex_partner_threats" for f in flags):
        advice.append(
            "An ex-partner is involved: also complete the domestic abuse DASH risk checklist "
            "and consider a MARAC referral."
        )
    return SdashResult(
        question_count=len(SDASH_QUESTIONS),
        answered_count=sum(1 for v in answers.values() if v in ("yes", "no")),
        yes_count=len(yes),
        yes_question_ids=yes,
        flags=flags,
        advice=advice,
        note=SDASH_NOTE,
    )


def _flags(yes: set[str], relationship: str | None) -> list[SdashFlag]:
    flags = []
    if relationship == "ex_partner" and "q6" in yes:
        flags.append(
            SdashFlag(
                code="ex_partner_threats",
                text="An ex-partner who has threatened violence: the highest-risk group.",
            )
        )
    if yes & {"q8", "q11"}:
        flags.append(
            SdashFlag(code="violence", text="Violence in the current stalking or in the past.")
        )
    if "q1" in yes:
        flags.append(SdashFlag(code="very_frightened", text="The victim is very frightened."))
    if len(yes) >= REFERRAL_YES_COUNT:
        flags.append(
            SdashFlag(
                code="many_risk_factors",
                text=f"{len(yes)} of {len(SDASH_QUESTIONS)} questions answered yes.",
            )
        )
    return flags
