"""Newest-first keyset pages, as every sharing list uses them: (created_at, id) descending."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar, TypeVarTuple

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.pagination import cursor_datetime, cursor_uuid, decode_cursor, encode_cursor

Ts = TypeVarTuple("Ts")
R = TypeVar("R")
Position = tuple[datetime, uuid.UUID]


def newest_first(
    query: Select[*Ts],
    created: InstrumentedAttribute[datetime],
    ident: InstrumentedAttribute[uuid.UUID],
    limit: int,
    cursor: str | None,
) -> Select[*Ts]:
    """`query` ordered newest first, after `cursor`, one row more than a page (to see more)."""
    query = query.order_by(created.desc(), ident.desc()).limit(limit + 1)
    if cursor:
        at, after = decode_cursor(cursor, 2)
        query = query.where(
            tuple_(created, ident) < tuple_(cursor_datetime(at), cursor_uuid(after))
        )
    return query


def split_page(
    rows: Sequence[R], limit: int, position: Callable[[R], Position]
) -> tuple[Sequence[R], str | None]:
    """The page's rows and the cursor to the next page (None on the last)."""
    if len(rows) <= limit:
        return rows, None
    at, ident = position(rows[limit - 1])
    return rows[:limit], encode_cursor(at.isoformat(), str(ident))
