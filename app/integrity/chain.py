"""Appending to an account's hash chain: the one way any domain records an event.

Guarantees, on SQLite and PostgreSQL, across threads and server processes: an account's seqs
run 1, 2, 3... with no gap and no fork, each event's prev_hash is the hash of the event before,
and the event commits or rolls back with the change it records (it is written in the caller's
transaction, which the session dependency commits).

How: every append first locks the account's `chain_heads` row. On PostgreSQL that is
`SELECT ... FOR UPDATE`, held to the end of the transaction, so concurrent appends for one
account queue behind each other and each reads the head its predecessor committed (READ
COMMITTED re-reads the locked row). On SQLite the request already holds the database write lock
from `BEGIN IMMEDIATE`. The head row is created on first use with an INSERT that ignores a
conflict, so two first appends cannot both create it. UNIQUE (account_id, seq) is the backstop.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.db import utcnow
from app.integrity.canonical import GENESIS_HASH, LinkFields, link_hash
from app.models import ChainEvent, ChainHead

INCIDENT_CREATED = "incident.created"
INCIDENT_AMENDED = "incident.amended"
INCIDENT_WITHDRAWN = "incident.withdrawn"
SUBJECT_CREATED = "subject.created"
SUBJECT_AMENDED = "subject.amended"
SUBJECT_WITHDRAWN = "subject.withdrawn"
EVIDENCE_ADDED = "evidence.added"
EVIDENCE_DELETED = "evidence.deleted"
# A caseworker's note on the victim's diary (with consent): separate from the victim's own
# entries, but in the same chain so it cannot be slipped in or removed unnoticed.
NOTE_CREATED = "note.created"

EVENT_KINDS = frozenset(
    {
        INCIDENT_CREATED,
        INCIDENT_AMENDED,
        INCIDENT_WITHDRAWN,
        SUBJECT_CREATED,
        SUBJECT_AMENDED,
        SUBJECT_WITHDRAWN,
        EVIDENCE_ADDED,
        EVIDENCE_DELETED,
        NOTE_CREATED,
    }
)

_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HELD = "chronicle.chain_heads_held"


def _locked_head(session: Session, account_id: uuid.UUID) -> ChainHead | None:
    query = (
        select(ChainHead)
        .where(ChainHead.account_id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one_or_none()


def _create_head_if_missing(session: Session, account_id: uuid.UUID) -> None:
    values: dict[str, Any] = {"account_id": account_id, "seq": 0, "head_hash": GENESIS_HASH}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(ChainHead).values(**values)
        session.execute(pg.on_conflict_do_nothing(index_elements=["account_id"]))
    elif dialect == "sqlite":
        lite = sqlite.insert(ChainHead).values(**values)
        session.execute(lite.on_conflict_do_nothing(index_elements=["account_id"]))
    else:  # pragma: no cover - only the two supported databases are ever configured
        raise RuntimeError(f"unsupported database dialect {dialect}")


def lock_chain(session: Session, account_id: uuid.UUID) -> ChainHead:
    """Lock the account's chain until the transaction ends; returns its current head.

    Services that must read-then-decide (is this id taken? is this etag current?) call it first,
    so the decision and the append see the same state. `append_event` calls it too; within one
    transaction the head is locked and read once, then kept in step in memory.
    """
    transaction = session.get_transaction()
    held: dict[uuid.UUID, tuple[object, ChainHead]] = session.info.setdefault(_HELD, {})
    if _is_held(held, account_id, transaction):
        return held[account_id][1]
    head = _locked_head(session, account_id)
    if head is None:
        _create_head_if_missing(session, account_id)
        head = _locked_head(session, account_id)
    assert head is not None
    if not session.in_nested_transaction():  # a savepoint's rollback would release the lock
        held[account_id] = (session.get_transaction(), head)
    return head


def lock_chains(session: Session, account_ids: Iterable[uuid.UUID]) -> None:
    """Lock several accounts' chains at once (one batch of writes, app.group_commit).

    Locks are taken in account-id order, so two processes' batches over overlapping accounts
    queue behind each other instead of deadlocking; each head is then held for the whole
    transaction and `lock_chain` within it returns the locked head without a query.
    """
    transaction = session.get_transaction()
    held: dict[uuid.UUID, tuple[object, ChainHead]] = session.info.setdefault(_HELD, {})
    wanted = sorted(a for a in set(account_ids) if not _is_held(held, a, transaction))
    if not wanted or transaction is None:
        return
    heads = _locked_heads(session, wanted)
    if len(heads) < len(wanted):
        for account_id in wanted:
            if account_id not in heads:
                _create_head_if_missing(session, account_id)
        heads = _locked_heads(session, wanted)
    for account_id in wanted:
        held[account_id] = (transaction, heads[account_id])


def _is_held(
    held: dict[uuid.UUID, tuple[object, ChainHead]], account_id: uuid.UUID, transaction: object
) -> bool:
    return account_id in held and held[account_id][0] is transaction is not None


def _locked_heads(session: Session, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, ChainHead]:
    query = (
        select(ChainHead)
        .where(ChainHead.account_id.in_(account_ids))
        .order_by(ChainHead.account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {head.account_id: head for head in session.scalars(query)}


def _checked(kind: str, revision: int, content_sha256: str) -> None:
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown chain event kind {kind!r}")
    if revision < 1:
        raise ValueError("revisions start at 1")
    if not _HEX_SHA256.match(content_sha256):
        raise ValueError("content_sha256 must be 64 lowercase hex digits")


def event_values(account_id: uuid.UUID, fields: LinkFields) -> dict[str, Any]:
    """The `chain_events` row for one link, its hash computed (every column, for Core)."""
    return {
        "id": uuid.uuid4(),
        "account_id": account_id,
        "seq": fields.seq,
        "kind": fields.kind,
        "object_id": fields.object_id,
        "revision": fields.revision,
        "occurred_at": fields.occurred_at,
        "recorded_at": fields.recorded_at,
        "content_sha256": fields.content_sha256,
        "prev_hash": fields.prev_hash,
        "hash": link_hash(fields),
    }


@dataclass
class PlannedAppend:
    """Appends for a batch of writes (app.group_commit), planned in memory, written at once.

    It starts from the heads the batch holds locked (`lock_chains`) and keeps each account's
    next seq and hash in step as events are planned, in the order they are planned, so the
    chain grows exactly as if `append_event` had been called for each. Nothing touches the
    database until `write_planned`, which inserts every planned event in one statement and
    moves the heads in another. A write whose plan fails after it appended rolls its appends
    back with `undo_to(mark())`.
    """

    session: Session
    heads: dict[uuid.UUID, tuple[int, str]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    objects: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)

    def touches(self, account_id: uuid.UUID, object_id: uuid.UUID) -> bool:
        """Whether an event for this object is already planned (a repeated id in one batch)."""
        return (account_id, object_id) in self.objects

    def mark(self) -> tuple[int, dict[uuid.UUID, tuple[int, str]]]:
        return len(self.events), dict(self.heads)

    def undo_to(self, mark: tuple[int, dict[uuid.UUID, tuple[int, str]]]) -> None:
        count, heads = mark
        for event in self.events[count:]:
            self.objects.discard((event["account_id"], event["object_id"]))
        del self.events[count:]
        self.heads = heads

    def append(
        self,
        account_id: uuid.UUID,
        kind: str,
        object_id: uuid.UUID,
        revision: int,
        occurred_at: datetime | None,
        content_sha256: str,
        *,
        recorded_at: datetime,
    ) -> dict[str, Any]:
        """Plan one event (as `append_event` would append it); returns its row."""
        _checked(kind, revision, content_sha256)
        if account_id not in self.heads:
            head = lock_chain(self.session, account_id)
            self.heads[account_id] = (head.seq, head.head_hash)
        seq, prev_hash = self.heads[account_id]
        fields = LinkFields(
            seq=seq + 1,
            prev_hash=prev_hash,
            kind=kind,
            object_id=object_id,
            revision=revision,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            content_sha256=content_sha256,
        )
        event = event_values(account_id, fields)
        self.events.append(event)
        self.objects.add((account_id, object_id))
        self.heads[account_id] = (fields.seq, event["hash"])
        return event


_EVENTS = cast(Table, ChainEvent.__table__)
_HEADS = cast(Table, ChainHead.__table__)
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.account_id == bindparam("b_account_id"))
    .values(seq=bindparam("b_seq"), head_hash=bindparam("b_hash"))
)


def write_planned(plan: PlannedAppend) -> None:
    """Insert the planned events (one statement) and move the heads they advanced (one more).

    The heads this transaction holds are kept in step without being marked changed, so a
    later `lock_chain` or `append_event` in the same transaction builds on the planned events.
    """
    if not plan.events:
        return
    session = plan.session
    session.execute(insert(_EVENTS), plan.events)
    moved = {event["account_id"] for event in plan.events}
    session.execute(
        _MOVE_HEAD,
        [
            {"b_account_id": a, "b_seq": plan.heads[a][0], "b_hash": plan.heads[a][1]}
            for a in sorted(moved)
        ],
    )
    held: dict[uuid.UUID, tuple[object, ChainHead]] = session.info.get(_HELD, {})
    for account_id in moved:
        if account_id in held:
            head = held[account_id][1]
            set_committed_value(head, "seq", plan.heads[account_id][0])
            set_committed_value(head, "head_hash", plan.heads[account_id][1])


def append_event(
    session: Session,
    account_id: uuid.UUID,
    kind: str,
    object_id: uuid.UUID,
    revision: int,
    occurred_at: datetime | None,
    content_sha256: str,
    *,
    recorded_at: datetime | None = None,
) -> ChainEvent:
    """Append one event to the account's chain, in the caller's transaction.

    The event is added to the session with its seq, prev_hash and hash set; the caller's flush
    or commit writes it. `content_sha256` is the salted commitment to the revision's canonical
    content (see app.integrity.canonical), or for evidence the file's SHA-256; `recorded_at`
    defaults to now and must be the same value the caller stores on its own row.
    """
    _checked(kind, revision, content_sha256)
    head = lock_chain(session, account_id)
    fields = LinkFields(
        seq=head.seq + 1,
        prev_hash=head.head_hash,
        kind=kind,
        object_id=object_id,
        revision=revision,
        occurred_at=occurred_at,
        recorded_at=recorded_at or utcnow(),
        content_sha256=content_sha256,
    )
    event = ChainEvent(
        id=uuid.uuid4(),
        account_id=account_id,
        seq=fields.seq,
        kind=kind,
        object_id=object_id,
        revision=revision,
        occurred_at=fields.occurred_at,
        recorded_at=fields.recorded_at,
        content_sha256=content_sha256,
        prev_hash=fields.prev_hash,
        hash=link_hash(fields),
    )
    session.add(event)
    head.seq = fields.seq
    head.head_hash = event.hash
    return event
