"""How often, and how severe, over time: gaps, weekly and monthly counts, and the trend.

Gaps matter as much as counts: courts look for a link between incidents (Lau v DPP), so long
gaps are flagged. The trend is a fixed, one-sentence rule (`TREND_METHOD`) rather than a model,
so an officer can check it by hand from the counts it prints. Calendar buckets are UK days.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import pairwise

from app.chronology.codes import behaviour
from app.chronology.law import LAU_CAVEAT, LONG_GAP_DAYS
from app.chronology.model import IncidentFacts
from app.chronology.schemas import (
    Direction,
    Frequency,
    Gap,
    GapAnalysis,
    PeriodCount,
    SeverityFirstSeen,
    Statement,
    TermRef,
    Trend,
    TrendPart,
)
from app.chronology.text import count_text, day_text
from app.chronology.timeline import ids, incident_severity

MIN_TREND_INCIDENTS = 4
MIN_TREND_SPAN = timedelta(days=14)
FREQUENCY_RATIO = 1.5
FREQUENCY_MIN_CHANGE = 2
SEVERITY_STEP = 0.5

RECENT_WEEKS = 4

# Why not the two halves of the period: a rise concentrated in the last few weeks (one a week
# for two months, then two, three and four a week) barely moves the later half's total, so a
# halves comparison reads it as stable. The recent weeks against the weekly rate before them
# sees it, and stays a rule an officer can check by hand from the weekly counts.
TREND_METHOD = (
    "Frequency: the incidents in the last 4 weeks (UK calendar weeks, Monday to Sunday, up to "
    "the latest incident; the last half of the weeks when the period is shorter than 8 weeks) "
    "are compared with the weekly rate in the weeks before them. It is escalating when the "
    "recent weekly rate is at least 1.5 times the earlier rate and at least 2 incidents more "
    "than that earlier rate would give; de-escalating when the earlier rate is at least 1.5 "
    "times the recent one and at least 2 incidents more. Severity: the period from the first "
    "to the last incident is split at its midpoint; each incident's highest behaviour severity "
    "(1 to 5) is escalating when its mean rises by 0.5 or more or the later half reaches a "
    "level higher than any in the earlier half (de-escalating when the mean falls by 0.5 or "
    "more and no higher level appears). Fewer than 4 incidents, or a period shorter than 14 "
    "days, is insufficient data."
)


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 1)


def _gap(before: IncidentFacts, after: IncidentFacts) -> Gap:
    return Gap(
        days=_days(after.occurred_at - before.occurred_at),
        from_incident_id=before.id,
        to_incident_id=after.id,
        from_occurred_at=before.occurred_at,
        to_occurred_at=after.occurred_at,
    )


def gap_analysis(
    incidents: Sequence[IncidentFacts], threshold_days: int = LONG_GAP_DAYS
) -> GapAnalysis:
    """Gaps between consecutive incidents (already in timeline order)."""
    pairs = list(pairwise(incidents))
    if not pairs:
        return GapAnalysis(
            threshold_days=threshold_days,
            gap_count=0,
            median_days=None,
            longest=None,
            long_gaps=[],
            statement=Statement(
                text="Fewer than two incidents: there are no gaps to measure.",
                incident_ids=ids(incidents),
            ),
        )
    deltas = [b.occurred_at - a.occurred_at for a, b in pairs]
    longest_at = max(range(len(pairs)), key=lambda n: (deltas[n], -n))  # first of equals
    threshold = timedelta(days=threshold_days)
    long_at = [n for n, delta in enumerate(deltas) if delta > threshold]
    median = statistics.median(d.total_seconds() for d in deltas) / 86400
    longest = _gap(*pairs[longest_at])
    text = (
        f"The longest gap between incidents is {longest.days} days, from "
        f"{day_text(pairs[longest_at][0].occurred_on)} to "
        f"{day_text(pairs[longest_at][1].occurred_on)}; the median gap is "
        f"{round(median, 1)} days."
    )
    cited = {pairs[longest_at][0].id, pairs[longest_at][1].id}
    if long_at:
        text += (
            f" {count_text(len(long_at), 'gap is', 'gaps are')} longer than "
            f"{threshold_days} days. {LAU_CAVEAT}"
        )
        cited.update(i.id for n in long_at for i in pairs[n])
    return GapAnalysis(
        threshold_days=threshold_days,
        gap_count=len(pairs),
        median_days=round(median, 1),
        longest=longest,
        long_gaps=[_gap(*pairs[n]) for n in long_at],
        statement=Statement(text=text, incident_ids=[i.id for i in incidents if i.id in cited]),
    )


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _week_name(start: date) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def _count(name: str, start: date, found: list[IncidentFacts]) -> PeriodCount:
    return PeriodCount(period=name, starts_on=start, count=len(found), incident_ids=ids(found))


def frequency(ordered: Sequence[IncidentFacts]) -> Frequency:
    """Counts by ISO week and by month, every period from the first to the last included."""
    if not ordered:
        return Frequency(by_week=[], by_month=[])
    weeks: dict[date, list[IncidentFacts]] = {}
    months: dict[date, list[IncidentFacts]] = {}
    for incident in ordered:
        weeks.setdefault(_week_start(incident.occurred_on), []).append(incident)
        months.setdefault(_month_start(incident.occurred_on), []).append(incident)
    first, last = ordered[0].occurred_on, ordered[-1].occurred_on
    by_week = []
    start = _week_start(first)
    while start <= last:
        found = weeks.get(start, [])
        by_week.append(_count(_week_name(start), start, found))
        start += timedelta(days=7)
    by_month = []
    start = _month_start(first)
    while start <= last:
        found = months.get(start, [])
        by_month.append(_count(f"{start:%Y-%m}", start, found))
        start = _next_month(start)
    return Frequency(by_week=by_week, by_month=by_month)


def _insufficient(ordered: Sequence[IncidentFacts], why: str) -> TrendPart:
    return TrendPart(
        direction="insufficient_data",
        earlier_value=None,
        later_value=None,
        statement=Statement(text=why, incident_ids=ids(ordered)),
        earlier_incident_ids=[],
        later_incident_ids=[],
    )


def _rate(n: float) -> str:
    return f"{n:.1f} a week"


def _frequency_trend(ordered: Sequence[IncidentFacts]) -> TrendPart:
    """The last RECENT_WEEKS weeks against the weekly rate of the weeks before them."""
    weeks = frequency(ordered).by_week
    recent_count = min(RECENT_WEEKS, len(weeks) // 2)
    before, recent = weeks[:-recent_count], weeks[-recent_count:]
    earlier = [i for week in before for i in week.incident_ids]
    later = [i for week in recent for i in week.incident_ids]
    a, b = len(earlier), len(later)
    earlier_rate, recent_rate = a / len(before), b / len(recent)
    expected = earlier_rate * len(recent)  # what the earlier rate would give in the recent weeks
    direction: Direction = "stable"
    if recent_rate >= FREQUENCY_RATIO * earlier_rate and b - expected >= FREQUENCY_MIN_CHANGE:
        direction, words = "escalating", "Incidents are becoming more frequent"
    elif earlier_rate >= FREQUENCY_RATIO * recent_rate and expected - b >= FREQUENCY_MIN_CHANGE:
        direction, words = "de-escalating", "Incidents are becoming less frequent"
    else:
        words = "The frequency of incidents is broadly stable"
    text = (
        f"{words}: {count_text(b, 'incident')} in the last {count_text(len(recent), 'week')} "
        f"(from {day_text(recent[0].starts_on)}, {_rate(recent_rate)}) against "
        f"{count_text(a, 'incident')} in the {count_text(len(before), 'week')} before "
        f"({_rate(earlier_rate)})."
    )
    cited = later if direction == "escalating" else earlier + later
    return TrendPart(
        direction=direction,
        earlier_value=round(earlier_rate, 2),
        later_value=round(recent_rate, 2),
        statement=Statement(text=text, incident_ids=cited),
        earlier_incident_ids=earlier,
        later_incident_ids=later,
    )


def _severity_trend(earlier: list[IncidentFacts], later: list[IncidentFacts]) -> TrendPart:
    before = [(i, s) for i in earlier if (s := incident_severity(i)) is not None]
    after = [(i, s) for i in later if (s := incident_severity(i)) is not None]
    if not before or not after:
        return _insufficient(
            earlier + later, "Too few incidents with coded behaviours to judge severity."
        )
    mean_before = statistics.fmean(s for _, s in before)
    mean_after = statistics.fmean(s for _, s in after)
    new_level = max(s for _, s in after) > max(s for _, s in before)
    rise = mean_after - mean_before
    direction: Direction = "stable"
    if rise >= SEVERITY_STEP or new_level:
        direction, words = "escalating", "The incidents are becoming more severe"
    elif rise <= -SEVERITY_STEP:
        direction, words = "de-escalating", "The incidents are becoming less severe"
    else:
        words = "The severity of incidents is broadly stable"
    text = (
        f"{words}: mean highest severity {mean_before:.1f} in the earlier half, "
        f"{mean_after:.1f} in the later half"
    )
    if direction == "escalating":
        cited = [i for i, s in after if s > mean_before]
        text += "; the later incidents more severe than the earlier average are cited."
    else:
        cited = [i for i, _ in before + after]
        text += "."
    return TrendPart(
        direction=direction,
        earlier_value=round(mean_before, 2),
        later_value=round(mean_after, 2),
        statement=Statement(text=text, incident_ids=ids(cited)),
        earlier_incident_ids=[i.id for i, _ in before],
        later_incident_ids=[i.id for i, _ in after],
    )


def first_seen(ordered: Sequence[IncidentFacts]) -> list[SeverityFirstSeen]:
    """For each severity level reached, the first incident with a behaviour at that level."""
    found: dict[int, SeverityFirstSeen] = {}
    for incident in ordered:
        for level in sorted({behaviour(c).severity for c in incident.behaviours} - set(found)):
            found[level] = SeverityFirstSeen(
                severity=level,
                incident_id=incident.id,
                occurred_at=incident.occurred_at,
                behaviours=[
                    TermRef(code=c, label=behaviour(c).label)
                    for c in incident.behaviours
                    if behaviour(c).severity == level
                ],
            )
    return [found[level] for level in sorted(found)]


def trend(ordered: Sequence[IncidentFacts]) -> Trend:
    """Escalation or de-escalation, separately in frequency and in severity (`TREND_METHOD`)."""
    if len(ordered) < MIN_TREND_INCIDENTS or (
        ordered[-1].occurred_at - ordered[0].occurred_at < MIN_TREND_SPAN
    ):
        why = (
            f"Too few incidents (fewer than {MIN_TREND_INCIDENTS}) or too short a period "
            f"(under {MIN_TREND_SPAN.days} days) to judge a trend."
        )
        return Trend(
            method=TREND_METHOD,
            split_at=None,
            frequency=_insufficient(ordered, why),
            severity=_insufficient(ordered, why),
            first_seen=first_seen(ordered),
        )
    split: datetime = (
        ordered[0].occurred_at + (ordered[-1].occurred_at - ordered[0].occurred_at) / 2
    )
    earlier = [i for i in ordered if i.occurred_at < split]
    later = [i for i in ordered if i.occurred_at >= split]
    return Trend(
        method=TREND_METHOD,
        split_at=split,
        frequency=_frequency_trend(ordered),
        severity=_severity_trend(earlier, later),
        first_seen=first_seen(ordered),
    )
