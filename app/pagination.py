"""Keyset pagination: opaque cursors and the newest-first page every list uses.

A cursor is the sort key of the last item, as base64url JSON. `newest_first` and `split_page`
page any query by (created_at, id) descending, the order of every sharing and export list.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar, TypeVarTuple

from fastapi import Query
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import Unprocessable

MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1 to 200).")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` from the previous page.")
]


def encode_cursor(*values: Any) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_cursor() -> Unprocessable:
    """A 422 like any other: the `errors` array names the cursor parameter."""
    return Unprocessable(
        "The cursor is not valid.",
        extra={"errors": [{"loc": ["query", "cursor"], "msg": "not a cursor this list gave"}]},
    )


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise bad_cursor() from exc
    if not isinstance(values, list) or len(values) != arity:
        raise bad_cursor()
    return values


def cursor_datetime(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise bad_cursor() from exc
    if parsed.tzinfo is None:
        raise bad_cursor()
    return parsed


def cursor_uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise bad_cursor() from exc


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
