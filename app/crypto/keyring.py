"""The master key ring: key-encryption keys (KEKs) with ids, and the server's HMAC key.

KEKs only ever wrap account data keys; they never touch victim content directly. The ring is a
small JSON document kept in a file (0600) or passed whole in KEYRING_JSON from a secret store.
`KeyRing` is the one interface a cloud KMS could implement later: wrap, unwrap, current id.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.private_files import private_dir

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_WRAP_VERSION = b"\x01"


class KeyRingError(RuntimeError):
    """The key ring is missing, malformed, or cannot unwrap a key."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, *, length: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise KeyRingError(f"{what} is not valid base64") from exc
    if len(raw) != length:
        raise KeyRingError(f"{what} must be {length} bytes")
    return raw


def _new_key_id() -> str:
    return "kek-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)


@dataclass
class KeyRing:
    current_id: str
    master_keys: dict[str, bytes]
    hmac_key: bytes
    _aeads: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.current_id not in self.master_keys:
            raise KeyRingError("the current master key id is not in the ring")
        self._aeads = {kid: AESGCM(key) for kid, key in self.master_keys.items()}

    def wrap(self, key: bytes, context: bytes) -> tuple[str, bytes]:
        """Encrypt a data key under the current KEK; `context` binds it to its owner."""
        nonce = os.urandom(12)
        sealed = self._aeads[self.current_id].encrypt(nonce, key, context)
        return self.current_id, _WRAP_VERSION + nonce + sealed

    def unwrap(self, key_id: str, wrapped: bytes, context: bytes) -> bytes:
        aead = self._aeads.get(key_id)
        if aead is None:
            raise KeyRingError(f"master key {key_id!r} is not in the key ring")
        if wrapped[:1] != _WRAP_VERSION:
            raise KeyRingError("unknown wrapped-key format")
        try:
            return aead.decrypt(wrapped[1:13], wrapped[13:], context)
        except InvalidTag as exc:
            raise KeyRingError("a data key failed to unwrap") from exc

    def with_new_master_key(self) -> KeyRing:
        kid = _new_key_id()
        keys = {**self.master_keys, kid: AESGCM.generate_key(bit_length=256)}
        return KeyRing(current_id=kid, master_keys=keys, hmac_key=self.hmac_key)

    def without_key(self, key_id: str) -> KeyRing:
        if key_id == self.current_id:
            raise KeyRingError("the current master key cannot be retired")
        keys = {kid: key for kid, key in self.master_keys.items() if kid != key_id}
        return KeyRing(current_id=self.current_id, master_keys=keys, hmac_key=self.hmac_key)

    def to_json(self) -> str:
        doc = {
            "version": FORMAT_VERSION,
            "current": self.current_id,
            "master_keys": {kid: _b64(key) for kid, key in self.master_keys.items()},
            "hmac_key": _b64(self.hmac_key),
        }
        return json.dumps(doc, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        try:
            doc = json.loads(text)
            current = str(doc["current"])
            raw_keys = dict(doc["master_keys"])
            hmac_text = str(doc["hmac_key"])
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyRingError("the key ring is not a valid key ring document") from exc
        if doc.get("version") != FORMAT_VERSION:
            raise KeyRingError("unsupported key ring version")
        keys = {
            str(kid): _unb64(str(k), length=32, what=f"master key {kid}")
            for kid, k in raw_keys.items()
        }
        hmac_key = _unb64(hmac_text, length=32, what="hmac_key")
        return cls(current_id=current, master_keys=keys, hmac_key=hmac_key)

    @classmethod
    def generate(cls) -> KeyRing:
        kid = _new_key_id()
        return cls(
            current_id=kid,
            master_keys={kid: AESGCM.generate_key(bit_length=256)},
            hmac_key=secrets.token_bytes(32),
        )


def save_keyring(ring: KeyRing, path: Path) -> None:
    """Write atomically with owner-only permissions, so a crash never leaves half a ring."""
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a .tmp left by a crash keeps its old mode through O_CREAT
    with os.fdopen(fd, "w") as fh:
        fh.write(ring.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_keyring(path: Path, inline_json: str | None, *, allow_generate: bool) -> KeyRing:
    if inline_json:
        return KeyRing.from_json(inline_json)
    if path.exists():
        return KeyRing.from_json(path.read_text())
    if not allow_generate:
        raise KeyRingError(f"no key ring at {path} (set KEYRING_PATH or KEYRING_JSON)")
    ring = KeyRing.generate()
    save_keyring(ring, path)
    log.warning(
        "generated a development key ring at %s: NOT FOR PRODUCTION; anyone with this file "
        "can read every diary stored with it",
        path,
    )
    return ring
