"""Evidence as exhibits: the numbered list a PDF, a bundle or a share link shows, and the files.

An exhibit is live evidence of the account, optionally only evidence attached to some of its
incidents: linked from either side, as GET /v1/evidence?incident_id= counts it (the record
names the incident, or the incident's current revision names the evidence). Each file's number
is fixed for good by its place in the account's chain: the Nth file ever received is EX-00N
in every PDF, bundle and share, so an exhibit number an officer wrote down never comes to
mean another file (deleting one leaves a gap; a share shows only its own files, gaps and all).
Each names the earliest (in diary order) of the live incidents it is attached to, among those
asked for.

An `Exhibit` is validated on construction (an exhibit number that is safe in a file name, a
lowercase SHA-256, aware times), so the PDF, the bundle and the viewer never have to guess.

`open_exhibit` reads the file through app.evidence.download: every chunk is authenticated
before it is yielded, and a stored file that fails its check raises IntegrityFailure instead
of yielding altered bytes.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.crypto.fields import DataKey
from app.db import from_tags
from app.evidence import download, service
from app.evidence.schemas import EvidenceOut
from app.models import Evidence, Incident, IncidentRevision
from app.ownership import incident_revisions_join

_EXHIBIT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,10}$")
MAX_NAME = 80


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Exhibit:
    number: str  # e.g. "EX-001": letters, digits and hyphens
    evidence_id: UUID
    caption: str
    media_type: str
    size: int
    sha256: str  # lowercase hex, as recorded on receipt
    captured_at: datetime | None  # when the victim says it was taken (from its metadata)
    received_at: datetime  # the server's clock when the upload completed
    file_name: str  # as the victim's device named it; only ever printed or made safe
    incident_id: UUID | None = None  # the incident it was attached to, if any

    def __post_init__(self) -> None:
        if not _EXHIBIT_NUMBER.match(self.number):
            raise ValueError("an exhibit number is 1-32 letters, digits and hyphens")
        if not _SHA256.match(self.sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        if self.size < 0:
            raise ValueError("size cannot be negative")
        object.__setattr__(self, "received_at", _aware("received_at", self.received_at))
        if self.captured_at is not None:
            object.__setattr__(self, "captured_at", _aware("captured_at", self.captured_at))

    @property
    def bundle_path(self) -> str:
        """Where the file goes in a bundle: `evidence/EX-001-photo.jpg`."""
        return f"evidence/{self.number}-{safe_file_name(self.file_name)}"


def safe_file_name(name: str) -> str:
    """ASCII letters, digits, `.`, `_`, `-` only; no leading dot; never empty; at most 80.

    Path separators, `..`, drive letters, control characters and the like cannot survive, so
    the name is safe in a zip (no zip-slip), in `sha256sum` lists and on any file system. A
    short alphanumeric extension is kept.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem, dot, extension = ascii_name.rpartition(".")
    if not dot or not _EXTENSION.match(extension):
        stem, extension = ascii_name, ""
    room = MAX_NAME - (len(extension) + 1 if extension else 0)
    stem = _UNSAFE.sub("_", stem).strip("._-")[:room].rstrip("._-") or "file"
    return f"{stem}.{extension}" if extension else stem


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
