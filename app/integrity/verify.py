"""Verifying a chain: pure functions over plain records, shared by the API and offline tools.

`verify_chain` re-derives everything it can and reports the first broken link by seq:
1. links: seqs run 1, 2, 3...; each prev_hash is the previous event's hash (GENESIS_HASH for
   the first); each hash is the recomputed link hash of the event's own fields;
2. lifecycle: an object's events have revisions 1, 2, 3... and nothing follows a withdrawal or
   deletion;
3. content (when the caller supplies what is stored, `revisions`): every event of a checked
   kind has its revision; the revision's recomputed commitment equals the event's
   content_sha256 and its timestamps equal the event's; content may be missing (erased) only
   for an object that was later withdrawn; no stored revision lacks an event;
4. objects (`objects`): the current revision and withdrawal state stored for an object are the
   ones the chain ends with;
5. head (`head`): the stored head is the last event.
Every failure is placed at a seq, and the smallest one is reported, so one tampered byte is
reported where it is, whichever record it was in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from app.integrity.canonical import GENESIS_HASH, LinkFields, link_hash

ENDING_VERBS = frozenset({"withdrawn", "deleted"})


@dataclass(frozen=True)
class EventRecord:
    """A chain event as stored or exported."""

    seq: int
    kind: str
    object_id: UUID
    revision: int
    occurred_at: datetime | None
    recorded_at: datetime
    content_sha256: str
    prev_hash: str
    hash: str

    def link_fields(self) -> LinkFields:
        return LinkFields(
            seq=self.seq,
            prev_hash=self.prev_hash,
            kind=self.kind,
            object_id=self.object_id,
            revision=self.revision,
            occurred_at=self.occurred_at,
            recorded_at=self.recorded_at,
            content_sha256=self.content_sha256,
        )


@dataclass(frozen=True)
class StoredRevision:
    """One stored revision, as the caller re-derived it from what it holds."""

    chain_seq: int  # the seq the revision row says recorded it
    recorded_at: datetime
    occurred_at: datetime | None
    commitment: str | None  # recomputed content_sha256; None when the content was erased
    problem: str | None = None  # e.g. "the content does not decrypt"


@dataclass(frozen=True)
class StoredObject:
    """An object's stored state: what the chain must end with."""

    current_revision: int
    withdrawn: bool
    recorded_at: datetime
    problem: str | None = None  # e.g. "the listing copy of occurred_at differs"


@dataclass(frozen=True)
class StoredHead:
    seq: int
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    length: int
    head: str
    broken_at: int | None
    reason: str | None


@dataclass
class _Findings:
    first: tuple[int, str] | None = None

    def add(self, seq: int, reason: str) -> None:
        if self.first is None or seq < self.first[0]:
            self.first = (seq, reason)


@dataclass
class _History:
    """What the chain says about one object so far."""

    kind_type: str
    first_seq: int
    recorded_at: datetime
    last_seq: int
    last_revision: int
    ended: bool
    revisions: set[int] = field(default_factory=set)


def _type_and_verb(kind: str) -> tuple[str, str]:
    kind_type, _, verb = kind.partition(".")
    return kind_type, verb


def _check_links(events: Sequence[EventRecord], found: _Findings) -> None:
    prev_hash = GENESIS_HASH
    for expected, event in enumerate(events, start=1):
        if event.seq != expected:
            found.add(expected, f"event {expected} is missing or out of order")
            return
        if event.prev_hash != prev_hash:
            found.add(event.seq, "prev_hash is not the previous event's hash")
            return
        if link_hash(event.link_fields()) != event.hash:
            found.add(event.seq, "the hash does not match the event's fields")
            return
        prev_hash = event.hash


def _check_lifecycle(events: Sequence[EventRecord], found: _Findings) -> dict[UUID, _History]:
    histories: dict[UUID, _History] = {}
    for event in events:
        kind_type, verb = _type_and_verb(event.kind)
        history = histories.get(event.object_id)
        if history is None:
            if event.revision != 1:
                found.add(event.seq, "an object's first event is not revision 1")
            histories[event.object_id] = _History(
                kind_type=kind_type,
                first_seq=event.seq,
                recorded_at=event.recorded_at,
                last_seq=event.seq,
                last_revision=event.revision,
                ended=verb in ENDING_VERBS,
                revisions={event.revision},
            )
            continue
        if history.kind_type != kind_type:
            found.add(event.seq, "the event's kind does not match its object")
        elif history.ended:
            found.add(event.seq, "an event follows the object's withdrawal")
        elif event.revision != history.last_revision + 1:
            found.add(event.seq, "the revision does not follow the previous one")
        history.last_seq = event.seq
        history.last_revision = event.revision
        history.ended = history.ended or verb in ENDING_VERBS
        history.revisions.add(event.revision)
    return histories


def _check_content(
    events: Sequence[EventRecord],
    revisions: Mapping[tuple[UUID, int], StoredRevision],
    histories: Mapping[UUID, _History],
    content_kinds: Collection[str],
    found: _Findings,
) -> None:
    for event in events:
        kind_type, verb = _type_and_verb(event.kind)
        if kind_type not in content_kinds:
            continue
        stored = revisions.get((event.object_id, event.revision))
        if stored is None:
            found.add(event.seq, "the revision this event records is missing")
        elif stored.problem is not None:
            found.add(event.seq, stored.problem)
        elif stored.chain_seq != event.seq:
            found.add(event.seq, "the revision names another event")
        elif stored.recorded_at != event.recorded_at:
            found.add(event.seq, "recorded_at differs between the revision and the chain")
        elif stored.commitment is None:
            history = histories[event.object_id]
            if not history.ended or verb in ENDING_VERBS:
                found.add(event.seq, "the content was erased without a withdrawal")
        elif stored.occurred_at != event.occurred_at:
            found.add(event.seq, "occurred_at differs between the revision and the chain")
        elif stored.commitment != event.content_sha256:
            found.add(event.seq, "the content does not match its commitment")
    for (object_id, revision), stored in revisions.items():
        known = histories.get(object_id)
        if known is None or revision not in known.revisions:
            found.add(max(stored.chain_seq, 1), "a stored revision is not in the chain")


def _check_objects(
    objects: Mapping[UUID, StoredObject],
    histories: Mapping[UUID, _History],
    length: int,
    found: _Findings,
) -> None:
    for object_id, stored in objects.items():
        history = histories.get(object_id)
        if history is None:
            found.add(length + 1, "a stored object is not in the chain")
            continue
        if stored.recorded_at != history.recorded_at:
            found.add(history.first_seq, "recorded_at differs from the object's first event")
        if stored.current_revision != history.last_revision:
            found.add(history.last_seq, "the current revision is not the chain's last")
        if stored.withdrawn != history.ended:
            found.add(history.last_seq, "the withdrawal state differs from the chain")
        if stored.problem is not None:
            found.add(history.last_seq, stored.problem)


def _check_head(events: Sequence[EventRecord], head: StoredHead, found: _Findings) -> None:
    last_seq = events[-1].seq if events else 0
    last_hash = events[-1].hash if events else GENESIS_HASH
    if head.seq > last_seq:
        found.add(last_seq + 1, "the chain ends before its recorded head")
    elif head.seq < last_seq:
        found.add(head.seq + 1, "events follow the recorded head")
    elif head.hash != last_hash:
        found.add(max(head.seq, 1), "the recorded head hash differs from the last event")


def verify_chain(
    events: Sequence[EventRecord],
    *,
    head: StoredHead | None = None,
    revisions: Mapping[tuple[UUID, int], StoredRevision] | None = None,
    objects: Mapping[UUID, StoredObject] | None = None,
    content_kinds: Collection[str] = ("incident", "subject"),
) -> VerifyResult:
    """Verify `events` (sorted by seq, as stored) and whatever else the caller supplies."""
    found = _Findings()
    _check_links(events, found)
    histories = _check_lifecycle(events, found)
    if revisions is not None:
        _check_content(events, revisions, histories, content_kinds, found)
    if objects is not None:
        _check_objects(objects, histories, len(events), found)
    if head is not None:
        _check_head(events, head, found)
    last_hash = events[-1].hash if events else GENESIS_HASH
    if found.first is None:
        return VerifyResult(
            ok=True, length=len(events), head=last_hash, broken_at=None, reason=None
        )
    seq, reason = found.first
    return VerifyResult(ok=False, length=len(events), head=last_hash, broken_at=seq, reason=reason)
