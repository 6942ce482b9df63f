"""Evidence as exhibits: the numbered list a PDF, a bundle or a share link shows, and the files.

An exhibit is live evidence of the account, optionally only evidence attached to some of its
incidents: linked from either side, as GET /v1/evidence?incident_id= counts it (the record
names the incident, or the incident's current revision names the evidence). Each file's number
is fixed for good by its place in the account's chain: the Nth file ever received is EX-00N
in every PDF, bundle and share, so an exhibit number an officer wrote down never comes to
mean another file (deleting one leaves a gap; a share shows only its own files, gaps and all).
Each names the earliest (in diary order) of the live incidents it is attached to, among those
asked for.

`open_exhibit` reads the file through app.evidence.download: every chunk is authenticated
before it is yielded, and a stored file that fails its check raises IntegrityFailure instead
of yielding altered bytes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.crypto.fields import DataKey
from app.diary.access import incident_revisions_join
from app.diary.incidents.content import from_tags
from app.evidence import download, service
from app.evidence.schemas import EvidenceOut
from app.exports.model import Exhibit
from app.models import Evidence, Incident, IncidentRevision


def exhibits_for(
    session: Session, key: DataKey, incident_ids: set[uuid.UUID] | None
) -> list[Exhibit]:
    """The account's live evidence as exhibits; only that attached to `incident_ids` unless None."""
    order, listed_by = _live_incidents(session, key.account_id)
    wanted = set(order) if incident_ids is None else set(order) & incident_ids
    rows = session.scalars(
        select(Evidence)
        .where(Evidence.account_id == key.account_id)
        .order_by(Evidence.chain_seq)  # deleted files too: they keep their numbers
    ).all()
    exhibits: list[Exhibit] = []
    for place, row in enumerate(rows, start=1):
        if row.deleted_at is not None:
            continue
        linked = {uuid.UUID(value) for value in from_tags(row.incident_ids)}
        attached = (linked | listed_by.get(row.id, set())) & wanted
        if incident_ids is not None and not attached:
            continue
        first = min(attached, key=order.__getitem__, default=None)
        exhibits.append(_exhibit(f"EX-{place:03d}", service.evidence_out(key, row), first))
    return exhibits


def _live_incidents(
    session: Session, account_id: uuid.UUID
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, set[uuid.UUID]]]:
    """(each live incident's place in diary order, evidence id -> the incidents listing it)."""
    rows = session.execute(
        select(Incident.id, IncidentRevision.evidence_ids)
        .join(
            IncidentRevision,
            and_(
                incident_revisions_join(),
                IncidentRevision.revision == Incident.current_revision,
            ),
        )
        .where(Incident.account_id == account_id, Incident.withdrawn_at.is_(None))
        .order_by(Incident.occurred_at, Incident.recorded_at, Incident.id)
    ).all()
    order: dict[uuid.UUID, int] = {}
    listed_by: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for place, (incident_id, evidence_ids) in enumerate(rows):
        order[incident_id] = place
        for evidence_id in from_tags(evidence_ids):
            listed_by[uuid.UUID(evidence_id)].add(incident_id)
    return order, listed_by


def _exhibit(number: str, out: EvidenceOut, incident_id: uuid.UUID | None) -> Exhibit:
    captured = out.capture.captured_at
    if captured is not None and captured.tzinfo is None:
        # The metadata reader stores camera times without an offset as UTC (app.evidence.media).
        captured = captured.replace(tzinfo=UTC)
    return Exhibit(
        number=number,
        evidence_id=out.id,
        caption=out.caption,
        media_type=out.media_type,
        size=out.size,
        sha256=out.sha256,
        captured_at=captured,
        received_at=out.received_at,
        file_name=out.file_name,
        incident_id=incident_id,
    )


def open_exhibit(ctx: AppContext, key: DataKey, exhibit: Exhibit) -> Iterator[bytes]:
    """The exhibit's file as received, in authenticated chunks.

    The record is found in the key's account (404 for another's, 410 once deleted) and the
    stored size checked before this returns; a damaged segment raises IntegrityFailure where
    the reader meets it.
    """
    opened = download.open_file(ctx, key, exhibit.evidence_id)
    return download.read(ctx, opened, (0, opened.size))
