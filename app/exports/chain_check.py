"""Checking a bundle's chain.json: pure, standard library plus app.integrity's verifier.

The events are parsed strictly (every field present, timestamps in the canonical form of
docs/integrity.md, so what is hashed is exactly what is written) and handed to
`app.integrity.verify.verify_chain`, the same function the server's own integrity check uses.
When the document carries revisions (salt and content), every commitment is recomputed too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from app.integrity.canonical import CanonicalError, revision_commitment, timestamp
from app.integrity.verify import EventRecord, StoredRevision, verify_chain

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SALT = re.compile(r"^[0-9a-f]{64}$")


class ChainDocumentError(ValueError):
    """A field of the chain document is missing or not in its canonical form."""


@dataclass(frozen=True)
class ChainCheck:
    length: int
    head: str
    problems: list[str]
    content_checked: bool  # whether the document carried revisions to recompute


def _timestamp(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise ChainDocumentError(f"{what} is not a timestamp")
    try:
        parsed = datetime.fromisoformat(value)
        canonical = timestamp(parsed)
    except (ValueError, CanonicalError) as exc:
        raise ChainDocumentError(f"{what} is not a timestamp") from exc
    if canonical != value:
        raise ChainDocumentError(f"{what} is not in canonical form ({canonical})")
    return parsed


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ChainDocumentError(f"{what} is not an integer")
    return value


def _hex(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.match(value):
        raise ChainDocumentError(f"{what} is not 64 lowercase hex digits")
    return value


def _uuid(value: Any, what: str) -> UUID:
    try:
        parsed = UUID(str(value))
    except ValueError as exc:
        raise ChainDocumentError(f"{what} is not a UUID") from exc
    if str(parsed) != value:
        raise ChainDocumentError(f"{what} is not a lowercase hyphenated UUID")
    return parsed


def parse_event(doc: Any) -> EventRecord:
    if not isinstance(doc, dict):
        raise ChainDocumentError("not an object")
    try:
        occurred = doc["occurred_at"]
        return EventRecord(
            seq=_int(doc["seq"], "seq"),
            kind=str(doc["kind"]),
            object_id=_uuid(doc["object_id"], "object_id"),
            revision=_int(doc["revision"], "revision"),
            occurred_at=None if occurred is None else _timestamp(occurred, "occurred_at"),
            recorded_at=_timestamp(doc["recorded_at"], "recorded_at"),
            content_sha256=_hex(doc["content_sha256"], "content_sha256"),
            prev_hash=_hex(doc["prev_hash"], "prev_hash"),
            hash=_hex(doc["hash"], "hash"),
        )
    except KeyError as exc:
        raise ChainDocumentError(f"{exc.args[0]} is missing") from exc


def _commitment(doc: Mapping[str, Any]) -> str | None:
    salt, content = doc.get("salt"), doc.get("content")
    if salt is None and content is None:
        return None  # erased with a withdrawal
    if not isinstance(salt, str) or not _SALT.match(salt) or not isinstance(content, dict):
        raise ChainDocumentError("salt must be 64 hex digits and content an object")
    try:
        return revision_commitment(bytes.fromhex(salt), content)
    except CanonicalError as exc:
        raise ChainDocumentError(f"content has no canonical form: {exc}") from exc


def _revisions(
    docs: list[Any], events: list[EventRecord]
) -> dict[tuple[UUID, int], StoredRevision]:
    by_object = {(e.object_id, e.revision): e for e in events}
    revisions: dict[tuple[UUID, int], StoredRevision] = {}
    for index, doc in enumerate(docs, start=1):
        try:
            if not isinstance(doc, dict):
                raise ChainDocumentError("not an object")
            key = (_uuid(doc.get("object_id"), "object_id"), _int(doc.get("revision"), "revision"))
            commitment = _commitment(doc)
            content = doc.get("content")
            occurred = content.get("occurred_at") if isinstance(content, dict) else None
        except ChainDocumentError as exc:
            raise ChainDocumentError(f"revision {index}: {exc}") from exc
        event = by_object.get(key)
        revisions[key] = StoredRevision(
            chain_seq=event.seq if event else 0,
            recorded_at=event.recorded_at if event else datetime.min,
            occurred_at=(
                _timestamp(occurred, f"revision {index} occurred_at") if occurred else None
            ),
            commitment=commitment,
        )
    return revisions


def check_chain_document(document: Any) -> ChainCheck:
    """Verify a chain document's links (and commitments when present); problems by seq."""
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        return ChainCheck(0, "", ["chain.json: no `events` list"], False)
    events: list[EventRecord] = []
    for index, doc in enumerate(document["events"], start=1):
        try:
            events.append(parse_event(doc))
        except ChainDocumentError as exc:
            seq = doc.get("seq", index) if isinstance(doc, dict) else index
            return ChainCheck(index, "", [f"chain.json: event at seq {seq}: {exc}"], False)
    revision_docs = document.get("revisions")
    revisions = None
    if revision_docs is not None:
        if not isinstance(revision_docs, list):
            return ChainCheck(len(events), "", ["chain.json: `revisions` is not a list"], False)
        try:
            revisions = _revisions(revision_docs, events)
        except ChainDocumentError as exc:
            return ChainCheck(len(events), "", [f"chain.json: {exc}"], False)
    result = verify_chain(events, revisions=revisions)
    problems = []
    if not result.ok:
        problems.append(f"chain.json: the chain breaks at seq {result.broken_at}: {result.reason}")
    return ChainCheck(result.length, result.head, problems, revisions is not None)


def evidence_events(document: Any) -> dict[UUID, set[str]]:
    """Evidence id -> the SHA-256s its `evidence.*` events record (a parsed, checked chain)."""
    found: dict[UUID, set[str]] = {}
    for doc in document.get("events", []) if isinstance(document, dict) else []:
        if isinstance(doc, dict) and str(doc.get("kind", "")).startswith("evidence."):
            try:
                found.setdefault(UUID(str(doc["object_id"])), set()).add(str(doc["content_sha256"]))
            except (KeyError, ValueError):
                continue
    return found
