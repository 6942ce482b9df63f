"""What incidents and subjects share: sealed revision documents and the withdrawn error.

A revision's sealed document is one AES-256-GCM field (`content_enc`) bound to the revision
row's id, holding JSON `{"salt": <hex>, "content": {...}}` for a created or amended revision or
`{"salt": <hex>, "withdrawal": {"reason": ...}}` for a withdrawal. The salt makes the chain's
commitment to the content unguessable; erasing the document erases the salt with the text.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from app.crypto.fields import DataKey, DecryptionError, decrypt_field, encrypt_field
from app.errors import AppError
from app.integrity.canonical import SALT_BYTES

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
