"""Field encryption: every value a victim writes is sealed under the account's data key.

Associated data binds each ciphertext to (table, column, row id, account id), so a ciphertext
copied to another row, column or account fails to decrypt instead of showing the wrong text.
Format: version byte 0x01 || 12-byte random nonce || AES-256-GCM ciphertext and tag.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto.keyring import KeyRing

_VERSION = b"\x01"


class DecryptionError(ValueError):
    """A ciphertext is corrupt, was moved, or belongs to another key."""


@dataclass(frozen=True)
class DataKey:
    """An account's unwrapped data key, held only for the length of a request."""

    account_id: UUID
    aead: AESGCM

    @classmethod
    def from_bytes(cls, account_id: UUID, key: bytes) -> DataKey:
        return cls(account_id=account_id, aead=AESGCM(key))


def _aad(key: DataKey, table: str, column: str, row_id: UUID | str) -> bytes:
    return f"chronicle/v1\x00{table}\x00{column}\x00{row_id}\x00{key.account_id}".encode()


def encrypt_bytes(
    key: DataKey, value: bytes, *, table: str, column: str, row_id: UUID | str
) -> bytes:
    nonce = os.urandom(12)
    return _VERSION + nonce + key.aead.encrypt(nonce, value, _aad(key, table, column, row_id))


def decrypt_bytes(
    key: DataKey, blob: bytes, *, table: str, column: str, row_id: UUID | str
) -> bytes:
    if blob[:1] != _VERSION or len(blob) < 29:
        raise DecryptionError(f"{table}.{column} is not a sealed field")
    try:
        return key.aead.decrypt(blob[1:13], blob[13:], _aad(key, table, column, row_id))
    except InvalidTag as exc:
        raise DecryptionError(f"{table}.{column} of {row_id} failed to decrypt") from exc


def encrypt_field(
    key: DataKey, value: str, *, table: str, column: str, row_id: UUID | str
) -> bytes:
    # surrogatepass keeps lone surrogates byte-exact instead of failing on them.
    raw = value.encode("utf-8", "surrogatepass")
    return encrypt_bytes(key, raw, table=table, column=column, row_id=row_id)


def decrypt_field(key: DataKey, blob: bytes, *, table: str, column: str, row_id: UUID | str) -> str:
    raw = decrypt_bytes(key, blob, table=table, column=column, row_id=row_id)
    return raw.decode("utf-8", "surrogatepass")


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_context(account_id: UUID) -> bytes:
    return f"chronicle/v1/account-data-key\x00{account_id}".encode()


def wrap_data_key(ring: KeyRing, account_id: UUID, key: bytes) -> tuple[str, bytes]:
    return ring.wrap(key, wrap_context(account_id))


def unwrap_data_key_bytes(ring: KeyRing, account_id: UUID, key_id: str, wrapped: bytes) -> bytes:
    return ring.unwrap(key_id, wrapped, wrap_context(account_id))


def unwrap_data_key(ring: KeyRing, account_id: UUID, key_id: str, wrapped: bytes) -> DataKey:
    return DataKey.from_bytes(account_id, unwrap_data_key_bytes(ring, account_id, key_id, wrapped))
