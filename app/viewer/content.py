"""What a share link shows and serves: the scoped summary, its PDF and its bundle.

Everything is built from the diary as it is now, through the same code the victim's own
chronology uses (app.diary.facts + app.chronology), filtered to the share's scope. Entries a
caseworker drafted carry their mark (app.sharing.drafts): in the page beside the entry, and
in the PDF and bundle at the head of the entry's description, so an officer always knows
whose words they are reading. Exhibits (app.evidence.exhibits) are the evidence attached to
the incidents shown, and only for a share that includes evidence.

The PDF and the bundle are synchronous CPU work: the routes call these functions from the
thread pool (plain `def` routes and a threaded bundle writer), never on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from sqlalchemy.orm import Session

from app.context import AppContext
from app.crypto.signing import SigningKeys
from app.diary.filters import IncidentFilters
from app.evidence.exhibits import Exhibit, open_exhibit
from app.exports.bundle.write import write_bundle
from app.exports.content import ExportContent, exhibits_in_scope, load_content
from app.exports.pdf import export_pdf
from app.exports.streaming import written_chunks
from app.sharing.shares.schemas import ShareScope
from app.sharing.shares.service import scope_of
from app.viewer.links import Opened


@dataclass(frozen=True)
class SharedView:
    opened: Opened
    scope: ShareScope
    content: ExportContent

    @property
    def identification(self) -> str:
        """What the PDF calls the chronology: the crime reference, or who it was shared with."""
        recipient = self.opened.recipient
        return recipient.crime_reference or f"shared with {recipient.force}"


def _filters(scope: ShareScope) -> IncidentFilters:
    return IncidentFilters(
        occurred_from=scope.occurred_from,
        occurred_to=scope.occurred_to,
        subject_ids=tuple(scope.subject_ids),
    )


def load_view(session: Session, opened: Opened) -> SharedView:
    scope = scope_of(opened.share)
    content = load_content(
        session, opened.key, _filters(scope), include_evidence=scope.include_evidence
    )
    return SharedView(opened, scope, content)


def shared_exhibits(session: Session, opened: Opened) -> list[Exhibit]:
    """The share's exhibits alone: an exhibit download need not build the whole summary."""
    scope = scope_of(opened.share)
    return exhibits_in_scope(session, opened.key, _filters(scope)) if scope.include_evidence else []


def render_pdf(view: SharedView, keys: SigningKeys) -> bytes:
    return export_pdf(
        view.content.marked_summary,
        view.content.exhibits,
        identification=view.identification,
        chain_head=view.content.chain_head,
        keys=keys,
        screening=view.content.screening,
    )


def bundle_chunks(
    ctx: AppContext, view: SharedView, chain: dict[str, Any], keys: SigningKeys
) -> Iterator[bytes]:
    """The bundle's bytes as write_bundle produces them, made in a thread of its own.

    Exhibit files are read (and authenticated) as they are written; one that fails its check
    aborts the bundle, so an officer never receives a complete bundle with an altered file.
    """

    def write(stream: IO[bytes]) -> None:
        write_bundle(
            stream,
            summary=view.content.marked_summary,
            exhibits=view.content.exhibits,
            open_evidence=partial(open_exhibit, ctx, view.opened.key),
            chain=chain,
            identification=view.identification,
            keys=keys,
            screening=view.content.screening,
        )

    return written_chunks(write, name="share-bundle")
