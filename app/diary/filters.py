"""Incident filters: parsed once from the query string, applied as SQL by the diary, and
reusable by any route that selects incidents "as GET /v1/incidents does" (the chronology).

Semantics: `from` <= occurred_at < `to` (half-open, so consecutive ranges do not overlap);
repeated `subject_id` or `behaviour` values match an incident having any of them; different
parameters must all match. A subject id of another account simply matches nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import InstrumentedAttribute

from app.diary.types import BehaviourCode
from app.errors import Unprocessable
from app.models import Incident, IncidentRevision
from app.schemas import IsoDatetime


@dataclass(frozen=True)
class IncidentFilters:
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    subject_ids: tuple[uuid.UUID, ...] = ()
    behaviours: tuple[str, ...] = ()
    reported: bool | None = None


def incident_filters(
    occurred_from: Annotated[
        IsoDatetime | None,
        Query(alias="from", description="Occurred at or after (timezone required)."),
    ] = None,
    occurred_to: Annotated[
        IsoDatetime | None, Query(alias="to", description="Occurred before (exclusive).")
    ] = None,
    subject_id: Annotated[
        list[uuid.UUID] | None, Query(max_length=20, description="Any of these subjects.")
    ] = None,
    behaviour: Annotated[
        list[BehaviourCode] | None, Query(max_length=20, description="Any of these codes.")
    ] = None,
    reported: Annotated[
        bool | None, Query(description="Only entries reported (true) or not (false).")
    ] = None,
) -> IncidentFilters:
    if occurred_from and occurred_to and occurred_to < occurred_from:
        raise Unprocessable(
            "`to` must not be before `from`.",
            extra={"errors": [{"loc": ["query", "to"], "msg": "must not be before from"}]},
        )
    return IncidentFilters(
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        subject_ids=tuple(subject_id or ()),
        behaviours=tuple(behaviour or ()),
        reported=reported,
    )


IncidentFiltersDep = Annotated[IncidentFilters, Depends(incident_filters)]


def _has_any(
    column: InstrumentedAttribute[str | None], values: tuple[object, ...]
) -> ColumnElement[bool]:
    return or_(*(column.contains(f"|{value}|", autoescape=True) for value in values))


def filter_conditions(filters: IncidentFilters) -> list[ColumnElement[bool]]:
    """WHERE clauses over incidents joined to their current revision."""
    conditions: list[ColumnElement[bool]] = []
    if filters.occurred_from is not None:
        conditions.append(Incident.occurred_at >= filters.occurred_from)
    if filters.occurred_to is not None:
        conditions.append(Incident.occurred_at < filters.occurred_to)
    if filters.subject_ids:
        conditions.append(_has_any(IncidentRevision.subject_ids, filters.subject_ids))
    if filters.behaviours:
        conditions.append(_has_any(IncidentRevision.behaviours, filters.behaviours))
    if filters.reported is not None:
        conditions.append(IncidentRevision.reported_to_police.is_(filters.reported))
    return conditions
