"""Small, locale-independent wording helpers, so the same facts always read the same way."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

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


def count_text(n: int, singular: str, plural: str | None = None) -> str:
    """'1 incident', '3 incidents'."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def join_words(words: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
