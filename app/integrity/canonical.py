"""The canonical JSON form and the two hashes built on it: content commitments and chain links.

Everything here is pure and depends only on the standard library, so an offline verifier (the
CLI, or an officer's own script following docs/integrity.md) computes exactly the same bytes.

Canonical JSON (a subset of RFC 8785, JCS, chosen so that it needs no number formatting):
- values are objects, arrays, strings, integers, `true`, `false` and `null`; no floats (a
  fractional quantity is stored as a scaled integer, e.g. degrees x 10^7), integers within
  +-(2^53 - 1);
- object keys are ASCII strings, each object's keys sorted by their bytes, no duplicates;
- no whitespace anywhere: `,` between items, `:` between key and value;
- strings are emitted as themselves in UTF-8, escaping only `"` as `\\"`, `\\` as `\\\\`, and
  the control characters U+0000 to U+001F: `\\b \\t \\n \\f \\r` by name, every other one as
  `\\u00XX` with lowercase hex. Nothing else is escaped (not `/`, not U+007F, not U+2028), and no
  Unicode normalisation is applied. Strings must be valid Unicode (no lone surrogates);
- the document is the UTF-8 encoding of that text, with no byte-order mark and no newline.

Values are encoded before they enter the document: timestamps as RFC 3339 UTC with exactly six
fractional digits and `Z` (`2024-03-01T21:05:00.000000Z`), calendar dates as `YYYY-MM-DD`, UUIDs
in lowercase hyphenated form, byte strings (hashes, salts) as lowercase hex.

Hashes:
- content_sha256 = SHA-256(salt || canonical(content)), salt 32 random bytes per revision;
- link hash = SHA-256(canonical({content_sha256, kind, object_id, occurred_at, prev_hash,
  recorded_at, revision, seq})), with prev_hash of the first event GENESIS_HASH (64 zeros).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64
SALT_BYTES = 32
MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalError(ValueError):
    """A value that has no canonical form (a float, a naive time, a non-ASCII key...)."""


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer out of range")
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CanonicalError(f"{path}: not valid Unicode") from exc
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise CanonicalError(f"{path}: keys must be ASCII strings")
            _check(item, f"{path}.{key}")
        return
    raise CanonicalError(f"{path}: {type(value).__name__} has no canonical form")


def _plainly_canonical(value: Any) -> bool:
    """The quick test every write pays: exact JSON types, safe integers, ASCII string keys.

    Strings are not checked here: a lone surrogate fails the final UTF-8 encoding instead.
    False sends the value to `_check`, which names the offending path (or, for a subclass of
    a JSON type, accepts it).
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            return False
        if kind is list or kind is tuple:
            stack.extend(item)
        elif kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            stack.extend(item.values())
        else:
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """The canonical bytes of a JSON value; CanonicalError if it has none."""
    if not _plainly_canonical(value):
        _check(value, "$")
    # With these options the standard library emits exactly the form specified above: keys
    # are ASCII, so its code-point sort equals a byte sort; ensure_ascii=False leaves every
    # character but `"`, `\` and U+0000-U+001F as itself; control characters get lowercase hex.
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        _check(value, "$")  # names the string that is not valid Unicode
        raise CanonicalError("$: not valid Unicode") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def timestamp(value: datetime) -> str:
    """RFC 3339 UTC with microseconds and Z; the one timestamp form in hashed documents."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CanonicalError("naive datetimes have no canonical form")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def optional_timestamp(value: datetime | None) -> str | None:
    return None if value is None else timestamp(value)


def calendar_date(value: date) -> str:
    return value.isoformat()


def uuid_text(value: UUID) -> str:
    return str(value)


def content_commitment(salt: bytes, content: dict[str, Any]) -> str:
    """content_sha256: binds a revision's content without revealing it to a guesser."""
    if len(salt) != SALT_BYTES:
        raise CanonicalError(f"the salt must be {SALT_BYTES} bytes")
    return sha256_hex(salt + canonical_json(content))


def revision_commitment(salt: bytes | None, content: dict[str, Any] | None) -> str | None:
    """content_sha256 of a revision; None when its content was erased with a withdrawal.

    CanonicalError when the salt or the content has no canonical form.
    """
    if salt is None and content is None:
        return None
    if salt is None or content is None:
        raise CanonicalError("a revision has both a salt and a content, or neither")
    return content_commitment(salt, content)


@dataclass(frozen=True)
class LinkFields:
    """The fields of one chain event that its hash covers."""

    seq: int
    prev_hash: str
    kind: str
    object_id: UUID
    revision: int
    occurred_at: datetime | None
    recorded_at: datetime
    content_sha256: str

    def document(self) -> dict[str, Any]:
        return {
            "content_sha256": self.content_sha256,
            "kind": self.kind,
            "object_id": uuid_text(self.object_id),
            "occurred_at": optional_timestamp(self.occurred_at),
            "prev_hash": self.prev_hash,
            "recorded_at": timestamp(self.recorded_at),
            "revision": self.revision,
            "seq": self.seq,
        }


def link_hash(fields: LinkFields) -> str:
    """The event's hash: SHA-256 of the canonical JSON of its fields, lowercase hex."""
    return sha256_hex(canonical_json(fields.document()))
