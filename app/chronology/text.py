"""Small, locale-independent wording helpers, so the same facts always read the same way.

What a person reads is in UK local time, the zone marked (GMT or BST): officers, statements
and courts use it. Days are UK local days too (`local_day`), so an incident at 00:30 BST is on
the day the victim lived it, not the UTC day before. JSON keeps RFC 3339 instants.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def day_text(day: date) -> str:
    """'3 March 2026'."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_day(day: date) -> str:
    """'3 Mar 2026', for chart axes."""
    return f"{day.day} {_MONTHS[day.month - 1][:3]} {day.year}"


def month_text(day: date) -> str:
    """'Mar 2026', for chart axes."""
    return f"{_MONTHS[day.month - 1][:3]} {day.year}"


def local_day(moment: datetime) -> date:
    """The UK calendar day of an instant."""
    return moment.astimezone(UK).date()


def time_text(moment: datetime) -> str:
    """'3 March 2026, 22:10 GMT' (or BST in summer)."""
    local = moment.astimezone(UK)
    return f"{day_text(local.date())}, {local:%H:%M} {local.tzname()}"


def when_text(moment: datetime, precision: str) -> str:
    """An incident's time as the victim gave it: to the minute, about then, a day, a month."""
    local = moment.astimezone(UK)
    if precision == "month":
        return f"{_MONTHS[local.month - 1]} {local.year}"
    if precision == "day":
        return day_text(local.date())
    if precision == "approximate":
        return "about " + time_text(moment)
    return time_text(moment)


def count_text(n: int, singular: str, plural: str | None = None) -> str:
    """'1 incident', '3 incidents'."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def join_words(words: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
