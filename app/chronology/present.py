"""How an officer reads one incident of the summary, worded once for every presenter.

The PDF (app.exports) and the share viewer (app.sharing) both build their incident rows from
these functions, so the two never disagree on a time, a label or what "none" is called.
Times are UK local time with the zone marked (app.chronology.text).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.chronology.law import NOT_INDICATED, stalking_list_name
from app.chronology.risk import SDASH_QUESTIONS
from app.chronology.schemas import (
    OffenceIndicator,
    OrderInfo,
    SdashResult,
    Statement,
    Suggestion,
    Summary,
    TimelineEntry,
)
from app.chronology.text import count_text, day_text, join_words, time_text, when_text

PRECISION_LABELS = {
    "exact": "exact time",
    "approximate": "approximate time",
    "day": "day only",
    "month": "month only",
}
SDASH_TEXT = {q.id: q.text for q in SDASH_QUESTIONS}
NO_BEHAVIOUR = "No behaviour recorded"
NOT_IDENTIFIED = "not identified"


def when(entry: TimelineEntry) -> str:
    """'1 March 2024, 20:05 GMT (exact time), until 20:35 GMT'."""
    label = PRECISION_LABELS.get(entry.precision, entry.precision)
    text = f"{when_text(entry.occurred_at, entry.precision)} ({label})"
    if entry.ended_at is not None:
        text += f", until {time_text(entry.ended_at)}"
    return text


def recorded(entry: TimelineEntry) -> str:
    """When the server received it and, only if the victim said so, whether at the time."""
    text = f"Recorded {time_text(entry.recorded_at)}"
    if entry.recorded_contemporaneously is True:
        return text + ", at the time"
    after = f"{entry.recorded_after_days:g} days after"
    if entry.recorded_contemporaneously is False:
        return text + f", later from memory ({after})"
    return text + f" ({after})"


def behaviours(entry: TimelineEntry) -> str:
    return ", ".join(b.label for b in entry.behaviours) or NO_BEHAVIOUR


def who(entry: TimelineEntry) -> str:
    text = ", ".join(s.label for s in entry.subjects) or NOT_IDENTIFIED
    if entry.via_third_party:
        text += " (through another person)"
    return text


def channel(entry: TimelineEntry) -> str:
    parts = (entry.channel.label if entry.channel else None, entry.platform)
    return " · ".join(part for part in parts if part)


def police(entry: TimelineEntry) -> str:
    text = "Reported" if entry.reported_to_police else "Not reported"
    if entry.police_references:
        text += ": " + ", ".join(entry.police_references)
    return text


def effect(entry: TimelineEntry) -> str:
    parts = []
    if entry.fear_of_violence:
        parts.append("Feared violence.")
    if entry.alarm_or_distress:
        parts.append("Alarm or distress.")
    if entry.daily_life_changes:
        parts.append("Changed: " + ", ".join(c.label for c in entry.daily_life_changes) + ".")
    if entry.victim_actions:
        done = join_words(a.label.lower() for a in entry.victim_actions)
        parts.append(f"The victim {done}.")
    return " ".join(parts) or "None recorded."


# --- The first lines: think stalking first ---------------------------------------------------
#
# College of Policing advice is to consider stalking first and, where a case is treated as
# harassment only, to record why it is not stalking. The title, the first line of the risk box
# and the order of "offences to consider" all follow from one ranking, so the PDF and the viewer
# lead with the same indication. Most serious first; codes are OffenceIndicator.code.
SERIOUSNESS = (
    "stalking_fear_or_alarm",
    "stalking",
    "fear_of_violence",
    "threatening_or_abusive_behaviour",
    "harassment",
    "breach_of_order",
)
PLAIN_TITLE = "Course-of-conduct chronology"
_STALKING_CODES = ("stalking_fear_or_alarm", "stalking")


def _rank(offence: OffenceIndicator) -> tuple[bool, int]:
    known = offence.code in SERIOUSNESS
    return (not offence.indicated, SERIOUSNESS.index(offence.code) if known else len(SERIOUSNESS))


def ordered_offences(summary: Summary) -> list[OffenceIndicator]:
    """Indicated first, then by seriousness: stalking always before harassment (stable sort)."""
    return sorted(summary.offences, key=_rank)


def _relationship(summary: Summary, subject_id: UUID | None) -> str | None:
    for subject in summary.subjects:
        if subject.subject_id == subject_id and subject.subject_id is not None:
            return subject.relationship.label.lower()
    return None


def _who(summary: Summary, offence: OffenceIndicator) -> str:
    if offence.subject_id is None:
        return "a person not identified"
    relationship = _relationship(summary, offence.subject_id)
    return offence.subject_label + (f", {relationship}" if relationship else "")


def title(summary: Summary) -> str:
    """'Stalking — course of conduct by Daniel, ex-partner', naming the most serious
    indication; the plain title when the diary indicates no offence."""
    indicated = [o for o in ordered_offences(summary) if o.indicated]
    if not indicated:
        return PLAIN_TITLE
    top = indicated[0]
    name = "Stalking" if top.code in _STALKING_CODES else top.title
    if top.code == "breach_of_order":
        return f"{name} — by {_who(summary, top)}"
    return f"{name} — course of conduct by {_who(summary, top)}"


def _why_not(summary: Summary, offence: OffenceIndicator) -> str:
    courses = {c.subject_id: c for c in summary.course_of_conduct}
    course = courses.get(offence.subject_id)
    who = offence.subject_label
    if course is None or not course.met:
        return (
            f"Stalking is not indicated for {who}: fewer than two incidents are recorded, and "
            "stalking needs a course of conduct (conduct on at least two occasions)."
        )
    if summary.jurisdiction in ("scotland", "northern_ireland"):
        why = next(f.text for f in offence.facts if f.text.startswith(NOT_INDICATED))
        return f"Stalking is not indicated for {who}: {why.removeprefix(NOT_INDICATED)}"
    return (
        f"Stalking is not indicated for {who}: no behaviour recorded is one of "
        f"{stalking_list_name(summary.jurisdiction)}. The list gives examples only: consider "
        "whether the conduct is fixated, obsessive, unwanted and repeated, and record why it "
        "is not stalking if it is treated as harassment."
    )


def stalking_lead(summary: Summary) -> list[str]:
    """The first lines of the risk box: stalking where indicated (per person, most serious
    form first), and where it is not indicated, why not."""
    stalking = [o for o in ordered_offences(summary) if o.code in _STALKING_CODES]
    lines: list[str] = []
    done: set[UUID | None] = set()
    for offence in stalking:
        if offence.indicated and offence.subject_id not in done:
            done.add(offence.subject_id)
            who = offence.subject_label
            lines.append(f"{offence.title} ({offence.law}) is indicated for {who}.")
    for offence in stalking:
        if offence.code == "stalking" and offence.subject_id not in done:
            done.add(offence.subject_id)
            lines.append(_why_not(summary, offence))
    return lines


def runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Incident numbers as runs: [1, 2, 3, 4, 7] -> [(1, 4), (7, 7)]. A presenter prints a run
    of three or more as a range, '#1' en dash '#4', one link at each end: 24 incidents in a
    row are two links, not 24."""
    found: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if found and n == found[-1][1] + 1:
            found[-1] = (found[-1][0], n)
        else:
            found.append((n, n))
    # A run of two reads better as two numbers than as a range.
    split: list[tuple[int, int]] = []
    for first, last in found:
        split.extend([(first, first), (last, last)] if last == first + 1 else [(first, last)])
    return split


# --- S-DASH: the latest screening, or that there is none -------------------------------------
NO_SCREENING = "No S-DASH screening recorded."
_ANSWERED_BY = {"victim": "the victim", "caseworker": "a caseworker", "officer": "an officer"}


class Screening(Protocol):
    """What the presenters read of one recorded S-DASH screening (app.risk's AssessmentOut);
    a protocol, because app.risk builds on the analysis and not the other way round."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def answered_by(self) -> str: ...
    @property
    def answerer_name(self) -> str | None: ...
    @property
    def crime_reference(self) -> str | None: ...
    @property
    def result(self) -> SdashResult: ...


class Screenings(Protocol):
    """The latest screening and the diary's suggestions (app.risk's RiskScreening)."""

    @property
    def latest(self) -> Screening | None: ...
    @property
    def suggestions(self) -> Sequence[Suggestion]: ...


def screening(risk: Screenings | None) -> list[Statement]:
    """What the PDF and the viewer say about S-DASH: the latest screening (who answered, when in
    UK time, the yes count and the yes answers, the crime reference) or that none is recorded;
    then the diary's suggestions, marked as suggestions with the incidents behind them."""
    lines: list[Statement] = []
    latest = risk.latest if risk is not None else None
    if latest is None:
        lines.append(Statement(text=NO_SCREENING, incident_ids=[]))
    else:
        result = latest.result
        who = _ANSWERED_BY.get(latest.answered_by, latest.answered_by)
        if latest.answerer_name:
            who += f" ({latest.answerer_name})"
        text = (
            f"Latest S-DASH screening: {time_text(latest.created_at)}, answered by {who}: "
            f"{result.yes_count} of {result.question_count} questions answered yes "
            f"({result.answered_count} answered)"
        )
        if latest.crime_reference:
            text += f"; crime reference {latest.crime_reference}"
        lines.append(Statement(text=text + ".", incident_ids=[]))
        for qid in result.yes_question_ids:
            question = SDASH_TEXT.get(qid, qid)
            lines.append(Statement(text=f"Yes: {qid[1:]}. {question}", incident_ids=[]))
        lines.extend(Statement(text=flag.text, incident_ids=[]) for flag in result.flags)
    for suggestion in risk.suggestions if risk is not None else []:
        lines.append(
            Statement(
                text=(
                    f"Suggested from the diary, not an answer: {suggestion.question_id[1:]}. "
                    f"{suggestion.question} Yes — {suggestion.reason}"
                ),
                incident_ids=suggestion.incident_ids,
            )
        )
    return lines


# --- The people the diary is about, with their orders, up front -------------------------------
def _order(order: OrderInfo) -> str:
    kind = order.kind.label
    if not order.is_order:
        return f"{kind} given {day_text(order.starts_on)}."
    text = f"{kind}, served {day_text(order.starts_on)}"
    text += f", until {day_text(order.ends_on)}" if order.ends_on else ", no end date recorded"
    if not order.conditions:
        return text + ": terms not shown."
    # The terms end the sentence; no second full stop after one inside the quotation.
    end = "" if order.conditions.rstrip().endswith((".", "!", "?")) else "."
    return f"{text}: terms “{order.conditions.rstrip()}”{end}"


def suspects(summary: Summary) -> list[Statement]:
    """One line per person the diary names (relationship, how many incidents), then each of
    their orders with its kind, the date it was served and its terms."""
    lines: list[Statement] = []
    for subject in summary.subjects:
        if subject.subject_id is None:
            text = f"Not identified: {count_text(subject.incident_count, 'incident')}."
        else:
            text = (
                f"{subject.label}, {subject.relationship.label.lower()}: "
                f"{count_text(subject.incident_count, 'incident')}"
            )
            if subject.via_third_party_incident_ids:
                text += f" ({len(subject.via_third_party_incident_ids)} through another person)"
            text += "."
            if subject.warned_on is not None:
                text += f" Warned {day_text(subject.warned_on)}."
        lines.append(Statement(text=text, incident_ids=subject.incident_ids))
        lines.extend(Statement(text=_order(o), incident_ids=[]) for o in subject.orders)
    return lines
