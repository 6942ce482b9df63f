"""How an officer reads one incident of the summary, worded once for every presenter.

The PDF (app.exports) and the share viewer (app.sharing) both build their incident rows from
these functions, so the two never disagree on a time, a label or what "none" is called.
Times are UK local time with the zone marked (app.chronology.text).
"""

from __future__ import annotations

from app.chronology.schemas import TimelineEntry
from app.chronology.text import time_text, when_text

PRECISION_LABELS = {
    "exact": "exact time",
    "approximate": "approximate time",
    "day": "day only",
    "month": "month only",
}
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
    return " ".join(parts) or "None recorded."
