"""The `chain.json` of a shared bundle, read from the database (format: app.exports.bundle.write).

`events` is always the account's whole chain: the hash of each event covers the one before,
so no part of it can be left out and still be checked. Events carry no content, only kinds,
ids, revision numbers, dates and commitments.

`revisions` (each entry revision's salt and canonical content, which let an outsider recompute
every commitment) are included only when the share covers the whole diary: for a share of
part of it they would disclose entries outside its scope, and the offline verifier needs all
of them or none. A partial share's bundle therefore proves the chain's links and head, and
the signed manifest binds the summary to that head.

Events and revisions are read by app.integrity.gather, the same gather the server's own
integrity check uses.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.crypto.fields import DataKey, DecryptionError
from app.integrity.canonical import LinkFields
from app.integrity.gather import chain_events, gather_revisions
from app.models import ChainEvent


def _event(event: ChainEvent) -> dict[str, Any]:
    fields = LinkFields(
        seq=event.seq,
        prev_hash=event.prev_hash,
        kind=event.kind,
        object_id=event.object_id,
        revision=event.revision,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        content_sha256=event.content_sha256,
    )
    return {**fields.document(), "hash": event.hash}


def _revisions(session: Session, key: DataKey) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for opened in gather_revisions(session, key):
        if opened.problem is not None:
            # A bundle never carries a revision it could not open: the export fails instead.
            raise DecryptionError(
                f"revision {opened.revision} of {opened.object_id}: {opened.problem}"
            )
        docs.append(opened.document())
    return docs


def chain_document(session: Session, key: DataKey, *, with_revisions: bool) -> dict[str, Any]:
    """`{"events": [...]}`, plus `"revisions"` when `with_revisions` (a whole-diary share)."""
    events = chain_events(session, key.account_id)
    document: dict[str, Any] = {"events": [_event(event) for event in events]}
    if with_revisions:
        document["revisions"] = _revisions(session, key)
    return document
