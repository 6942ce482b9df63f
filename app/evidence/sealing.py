"""How one evidence file is bound to its record: keys, associated data, sealed details.

Every file has its own random key (app.crypto.stream), wrapped by the account's data key with
associated data naming the evidence id, so the wrapped key cannot be moved to another record
or account. The stream's associated data names the evidence id and the account too, so a blob
moved under another record fails to decrypt even before the key question arises. The file
name, caption and capture metadata are one JSON document sealed the same way.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.crypto.fields import DataKey, decrypt_bytes, decrypt_field, encrypt_bytes, encrypt_field
from app.crypto.stream import new_file_key

TABLE = "evidence"
UPLOADS_TABLE = "evidence_uploads"


def stream_aad(account_id: uuid.UUID, evidence_id: uuid.UUID) -> bytes:
    return f"chronicle/v1/evidence\x00{evidence_id}\x00{account_id}".encode()


def new_blob_key(account_id: uuid.UUID, evidence_id: uuid.UUID) -> str:
    """A fresh key per attempt, so a repeated upload never overwrites a stored file."""
    return f"evidence/{account_id}/{evidence_id}.{secrets.token_hex(8)}"


def wrap_file_key(key: DataKey, evidence_id: uuid.UUID, file_key: bytes) -> bytes:
    return encrypt_bytes(key, file_key, table=TABLE, column="file_key", row_id=evidence_id)


def unwrap_file_key(key: DataKey, evidence_id: uuid.UUID, wrapped: bytes) -> bytes:
    return decrypt_bytes(key, wrapped, table=TABLE, column="file_key", row_id=evidence_id)


def new_wrapped_file_key(key: DataKey, evidence_id: uuid.UUID) -> tuple[bytes, bytes]:
    """(file key, the same wrapped for the record)."""
    file_key = new_file_key()
    return file_key, wrap_file_key(key, evidence_id, file_key)


@dataclass(frozen=True)
class Details:
    """What the victim's device said about the file, and what its metadata says."""

    file_name: str = ""
    caption: str = ""
    capture: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"file_name": self.file_name, "caption": self.caption, "capture": self.capture},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Details:
        data = json.loads(text)
        return cls(
            file_name=str(data["file_name"]),
            caption=str(data["caption"]),
            capture=dict(data.get("capture") or {}),
        )


def seal_details(key: DataKey, table: str, row_id: uuid.UUID, details: Details) -> bytes:
    return encrypt_field(key, details.to_json(), table=table, column="details", row_id=row_id)


def open_details(key: DataKey, table: str, row_id: uuid.UUID, blob: bytes) -> Details:
    return Details.from_json(decrypt_field(key, blob, table=table, column="details", row_id=row_id))
