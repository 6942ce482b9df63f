"""What incidents and subjects share: sealed revision documents, the withdrawn error, and
the revision history (each revision's kind, the page of revisions oldest first).

A revision's sealed document is one AES-256-GCM field (`content_enc`) bound to the revision
row's id, holding JSON `{"salt": <hex>, "content": {...}}` for a created or amended revision or
`{"salt": <hex>, "withdrawal": {"reason": ...}}` for a withdrawal. The salt makes the chain's
commitment to the content unguessable; erasing the document erases the salt with the text.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.crypto.fields import DataKey, DecryptionError, decrypt_field, encrypt_field
from app.errors import AppError
from app.integrity.canonical import SALT_BYTES
from app.pagination import decode_cursor, encode_cursor

R = TypeVar("R")

Form = Literal["content", "withdrawal"]


class Withdrawn(AppError):
    status, type, title = 410, "withdrawn", "Withdrawn"


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


@dataclass(frozen=True)
class Opened:
    salt: bytes
    form: Form
    body: dict[str, Any]


def seal(
    key: DataKey, *, table: str, revision_id: uuid.UUID, salt: bytes, form: Form, body: Any
) -> bytes:
    document = json.dumps({"salt": salt.hex(), form: body}, ensure_ascii=False)
    return encrypt_field(key, document, table=table, column="content", row_id=revision_id)


def unseal(key: DataKey, *, table: str, revision_id: uuid.UUID, blob: bytes) -> Opened:
    """The sealed document; DecryptionError if it was altered, moved or is not ours."""
    text = decrypt_field(key, blob, table=table, column="content", row_id=revision_id)
    try:
        document = json.loads(text)
        form: Form = "content" if "content" in document else "withdrawal"
        return Opened(salt=bytes.fromhex(document["salt"]), form=form, body=document[form])
    except (ValueError, KeyError, TypeError) as exc:  # pragma: no cover - authenticated input
        raise DecryptionError(f"{table} revision {revision_id} is malformed") from exc


def withdrawal_document(reason: str | None) -> dict[str, Any]:
    """The canonical content a withdrawal commits to."""
    return {"reason": reason}


RevisionKind = Literal["created", "amended", "withdrawn"]


def kind_of(revision: int, current: int, *, withdrawn: bool) -> RevisionKind:
    """What a revision did: the first created, a withdrawn object's last withdrew it."""
    if revision == 1:
        return "created"
    if withdrawn and revision == current:
        return "withdrawn"
    return "amended"


def revision_page(
    session: Session,
    query: Select[R],
    number: InstrumentedAttribute[int],
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[R], str | None]:
    """One page of an object's revisions, oldest first (`number` is the revision column),
    and the cursor of the next page; a cursor that is not a revision number starts over."""
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        query = query.where(number > (after if isinstance(after, int) else -1))
    rows = session.scalars(query.order_by(number).limit(limit + 1)).all()
    next_cursor = encode_cursor(getattr(rows[limit - 1], number.key)) if len(rows) > limit else None
    return rows[:limit], next_cursor
