"""What every request body shares: the `Input` base model and the common field types.

`Input` forbids unknown fields (no mass assignment); every request body derives from it. The
field types are bounded text, sane times and dates, strict flags and sorted id sets; the
taxonomy's code types live with the taxonomy (app.diary.types).

Text is kept exactly as sent (no trimming, no normalisation), NUL and bidi controls included,
so the diary shows what the victim wrote; only text that is not valid Unicode (a lone
surrogate) is refused, because it cannot be stored as UTF-8 or hashed canonically.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
)

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
# A phone's clock may be ahead, and "tonight" may be typed early; a week ahead is a mistake.
FUTURE_SLACK = timedelta(days=1)
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 1, 1)


class Input(BaseModel):
    """The base of every request body: unknown fields are refused, text is kept as sent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def valid_unicode(value: str) -> str:
    """Any text that can be stored as UTF-8 and hashed canonically (no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from exc
    return value


def _past_or_near(value: datetime) -> datetime:
    """Stored and returned in UTC; the instant is what counts, not the sender's offset."""
    if value < EARLIEST:
        raise ValueError("must be after 1900")
    if value > datetime.now(UTC) + FUTURE_SLACK:
        raise ValueError("must not be in the future")
    return value.astimezone(UTC)


_ISO_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any) -> Any:
    """Times arrive as ISO 8601 strings: a number (or "0.5") is not read as a Unix time."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE_START.match(value):
        raise ValueError("must be an ISO 8601 date or date-time string")
    return value


def _sane_date(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError("must be between 1900 and 2200")
    return value


def sorted_unique(values: list[Any]) -> list[Any]:
    return sorted(set(values))


_Unicode = AfterValidator(valid_unicode)
Name = Annotated[str, Field(min_length=1, max_length=200), _Unicode]
ShortText = Annotated[str, Field(max_length=200), _Unicode]
Reference = Annotated[str, Field(min_length=1, max_length=100), _Unicode]
Line = Annotated[str, Field(min_length=1, max_length=500), _Unicode]
Text = Annotated[str, Field(max_length=5000), _Unicode]
Narrative = Annotated[str, Field(max_length=20_000), _Unicode]

IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
When = Annotated[IsoDatetime, AfterValidator(_past_or_near)]
Day = Annotated[date, BeforeValidator(_iso_text), AfterValidator(_sane_date)]
# JSON true/false only: "yes", 1 or "0" are not quietly taken for a yes or a no.
Flag = Annotated[bool, Strict()]

# Sets of ids are stored and returned sorted, without duplicates.
SubjectIds = Annotated[list[UUID], Field(max_length=20), AfterValidator(sorted_unique)]
EvidenceIds = Annotated[list[UUID], Field(max_length=100), AfterValidator(sorted_unique)]
References = Annotated[list[Reference], Field(max_length=20)]
Lines = Annotated[list[Line], Field(max_length=20)]
