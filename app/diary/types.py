"""Field types for the taxonomy's codes: each accepts only a code of its list (DOMAIN.md).

The other field types request bodies share (text, times, flags, id sets) are in app.schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field, JsonValue

from app.chronology.codes import (
    BEHAVIOUR_CODES,
    CHANNEL_CODES,
    IMPACT_CODES,
    ORDER_KINDS,
    PRECISIONS,
    RELATIONSHIP_CODES,
    VICTIM_ACTION_CODES,
)
from app.schemas import sorted_unique


def _code_of(codes: frozenset[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in codes:
            raise ValueError(f"is not a {what} code of the taxonomy (see GET /v1/taxonomy)")
        return value

    return check


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
VictimActionCode = Annotated[
    str,
    _enum(VICTIM_ACTION_CODES),
    AfterValidator(_code_of(VICTIM_ACTION_CODES, "victim action")),
]
RelationshipCode = Annotated[
    str,
    _enum(RELATIONSHIP_CODES),
    AfterValidator(_code_of(RELATIONSHIP_CODES, "relationship")),
]
OrderKindCode = Annotated[
    str, _enum(ORDER_KINDS), AfterValidator(_code_of(ORDER_KINDS, "order kind"))
]
PrecisionCode = Annotated[str, _enum(PRECISIONS), AfterValidator(_code_of(PRECISIONS, "precision"))]

# Sets of codes are stored and returned sorted, without duplicates.
Behaviours = Annotated[
    list[BehaviourCode], Field(min_length=1, max_length=20), AfterValidator(sorted_unique)
]
ImpactCodes = Annotated[list[ImpactCode], Field(max_length=20), AfterValidator(sorted_unique)]
VictimActions = Annotated[
    list[VictimActionCode], Field(max_length=10), AfterValidator(sorted_unique)
]
