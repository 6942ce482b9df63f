"""Field types shared by the diary's request bodies: bounded text, taxonomy codes, sane times.

Text is kept exactly as sent (no trimming, no normalisation), NUL and bidi controls included,
so the diary shows what the victim wrote; only text that is not valid Unicode (a lone
surrogate) is refused, because it cannot be stored as UTF-8 or hashed canonically.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, JsonValue, Strict

from app.chronology.codes import (
    BEHAVIOUR_CODES,
    CHANNEL_CODES,
    IMPACT_CODES,
    ORDER_KINDS,
    PRECISIONS,
    RELATIONSHIP_CODES,
)

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
# A phone's clock may be ahead, and "tonight" may be typed early; a week ahead is a mistake.
FUTURE_SLACK = timedelta(days=1)
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 1, 1)


def _valid_unicode(value: str) -> str:
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


def _code_of(codes: frozenset[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in codes:
            raise ValueError(f"is not a {what} code of the taxonomy (see GET /v1/taxonomy)")
        return value

    return check


def _sorted_unique(values: list[Any]) -> list[Any]:
    return sorted(set(values))


_Unicode = AfterValidator(_valid_unicode)
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


def _enum(codes: frozenset[str]) -> Any:
    values: list[JsonValue] = [code for code in sorted(codes)]
    return Field(max_length=64, json_schema_extra={"enum": values})


BehaviourCode = Annotated[
    str, _enum(BEHAVIOUR_CODES), AfterValidator(_code_of(BEHAVIOUR_CODES, "behaviour"))
]
ChannelCode = Annotated[
    str, _enum(CHANNEL_CODES), AfterValidator(_code_of(CHANNEL_CODES, "channel"))
]
ImpactCode = Annotated[str, _enum(IMPACT_CODES), AfterValidator(_code_of(IMPACT_CODES, "impact"))]
RelationshipCode = Annotated[
    str,
    _enum(RELATIONSHIP_CODES),
    AfterValidator(_code_of(RELATIONSHIP_CODES, "relationship")),
]
OrderKindCode = Annotated[
    str, _enum(ORDER_KINDS), AfterValidator(_code_of(ORDER_KINDS, "order kind"))
]
PrecisionCode = Annotated[str, _enum(PRECISIONS), AfterValidator(_code_of(PRECISIONS, "precision"))]

# Sets of codes and ids are stored and returned sorted, without duplicates.
Behaviours = Annotated[
    list[BehaviourCode], Field(min_length=1, max_length=20), AfterValidator(_sorted_unique)
]
ImpactCodes = Annotated[list[ImpactCode], Field(max_length=20), AfterValidator(_sorted_unique)]
SubjectIds = Annotated[list[UUID], Field(max_length=20), AfterValidator(_sorted_unique)]
EvidenceIds = Annotated[list[UUID], Field(max_length=100), AfterValidator(_sorted_unique)]
References = Annotated[list[Reference], Field(max_length=20)]
Lines = Annotated[list[Line], Field(max_length=20)]
