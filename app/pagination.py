"""Opaque cursors for keyset pagination: the sort key of the last item, base64url JSON."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

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
