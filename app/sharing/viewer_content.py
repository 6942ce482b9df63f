"""What a share link shows and serves: the scoped summary, its PDF and its bundle.

Everything is built from the diary as it is now, through the same code the victim's own
chronology uses (app.diary.facts + app.chronology), filtered to the share's scope. Entries a
caseworker drafted carry their mark (app.sharing.drafts): in the page beside the entry, and
in the PDF and bundle at the head of the entry's description, so an officer always knows
whose words they are reading.

The PDF and the bundle are synchronous CPU work: the routes call these functions from the
thread pool (plain `def` routes and a threaded bundle writer), never on the event loop.
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

from sqlalchemy.orm import Session

from app.chronology.schemas import Summary
from app.chronology.summary import build_summary
from app.crypto.signing import SigningKeys
from app.db import utcnow
from app.diary.facts import load_facts
from app.diary.filters import IncidentFilters
from app.exports.bundle import write_bundle
from app.exports.model import ChainHead, Exhibit
from app.exports.pdf import export_pdf
from app.integrity.canonical import GENESIS_HASH
from app.models import Account
from app.models import ChainHead as StoredHead
from app.sharing import drafts
from app.sharing.share_schemas import ShareScope
from app.sharing.shares import scope_of
from app.sharing.viewer import Opened

CHUNK_QUEUE = 8


@dataclass(frozen=True)
class SharedView:
    opened: Opened
    scope: ShareScope
    summary: Summary
    marks: drafts.Marks
    exhibits: list[Exhibit]
    chain_head: ChainHead

    @property
    def identification(self) -> str:
        """What the PDF calls the chronology: the crime reference, or who it was shared with."""
        recipient = self.opened.recipient
        return recipient.crime_reference or f"shared with {recipient.force}"


def shared_exhibits(session: Session, opened: Opened, incident_ids: set[str]) -> list[Exhibit]:
    """The exhibits attached to the shared incidents.

    The evidence records (app.evidence) are not part of this service yet; until they are,
    a share has no exhibits and its page, PDF and bundle say so.
    """
    return []


def open_exhibit(opened: Opened, exhibit: Exhibit) -> Iterable[bytes]:
    """The exhibit's bytes as received, in chunks (see `shared_exhibits`)."""
    raise LookupError(f"exhibit {exhibit.number} is not stored")


def _chain_head(session: Session, opened: Opened) -> ChainHead:
    stored = session.get(StoredHead, opened.share.account_id)
    if stored is None:
        return ChainHead(length=0, hash=GENESIS_HASH)
    return ChainHead(length=stored.seq, hash=stored.head_hash)


def load_view(session: Session, opened: Opened) -> SharedView:
    scope = scope_of(opened.share)
    filters = IncidentFilters(
        occurred_from=scope.occurred_from,
        occurred_to=scope.occurred_to,
        subject_ids=tuple(scope.subject_ids),
    )
    account = session.get(Account, opened.share.account_id)
    jurisdiction = account.jurisdiction if account else "england_wales"
    incidents, subjects = load_facts(session, opened.key, opened.share.account_id, filters)
    summary = build_summary(incidents, subjects, generated_at=utcnow(), jurisdiction=jurisdiction)
    shown = {incident.id for incident in incidents}
    marks = {
        incident_id: mark
        for incident_id, mark in drafts.marks(session, opened.key).items()
        if incident_id in shown
    }
    exhibits = (
        shared_exhibits(session, opened, {str(i) for i in shown}) if scope.include_evidence else []
    )
    return SharedView(opened, scope, summary, marks, exhibits, _chain_head(session, opened))


def export_summary(view: SharedView) -> Summary:
    """The summary as the PDF and bundle carry it: drafted entries say so in their text."""
    if not view.marks:
        return view.summary
    timeline = []
    for entry in view.summary.timeline:
        mark = view.marks.get(entry.incident_id)
        if mark is not None:
            text = f"[{drafts.drafted_label(mark)}] {entry.description}"
            entry = entry.model_copy(update={"description": text})
        timeline.append(entry)
    return view.summary.model_copy(update={"timeline": timeline})


def render_pdf(view: SharedView, keys: SigningKeys) -> bytes:
    return export_pdf(
        export_summary(view),
        view.exhibits,
        identification=view.identification,
        chain_head=view.chain_head,
        keys=keys,
    )


class _QueueWriter(io.RawIOBase):
    """A write-only, unseekable stream whose writes are handed to a reader thread.

    `zipfile` writes such a stream in streaming mode (data descriptors), so the bundle is
    sent as it is made and never held whole in memory or on disk.
    """

    def __init__(self, chunks: queue.Queue[bytes | BaseException | None]) -> None:
        self.chunks = chunks
        self.cancelled = threading.Event()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        block = bytes(data)
        self.hand(block)
        return len(block)

    def hand(self, item: bytes | BaseException | None) -> None:
        """Queue `item` for the reader; give up once the reader has gone."""
        while True:
            if self.cancelled.is_set():
                raise BrokenPipeError("the download was abandoned")
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


def bundle_chunks(view: SharedView, chain: dict[str, Any], keys: SigningKeys) -> Iterator[bytes]:
    """The bundle's bytes as write_bundle produces them, made in a thread of its own."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=CHUNK_QUEUE)
    writer = _QueueWriter(chunks)

    def produce() -> None:
        try:
            write_bundle(
                cast(IO[bytes], writer),
                summary=export_summary(view),
                exhibits=view.exhibits,
                open_evidence=lambda exhibit: open_exhibit(view.opened, exhibit),
                chain=chain,
                identification=view.identification,
                keys=keys,
            )
            writer.hand(None)
        except BaseException as exc:  # handed to the reader, which raises it
            with contextlib.suppress(BrokenPipeError):
                writer.hand(exc)

    thread = threading.Thread(target=produce, name="share-bundle", daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            if item:
                yield item
    finally:
        writer.cancelled.set()
        thread.join(timeout=5)
