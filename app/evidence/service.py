"""Evidence records: recording a verified file, reading, listing, relinking, deleting.

Recording and deleting append to the account's hash chain in the same transaction as the row
change (`evidence.added` revision 1 with the file's SHA-256; `evidence.deleted` revision 2),
after taking the chain lock, which also serialises the quota arithmetic of one account.
Every query is scoped to the caller's account; another account's id is 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.blobs.encrypted import FinishedBlob
from app.crypto.fields import DataKey
from app.db import from_tags, to_tags, utcnow
from app.etags import linked_etag, require_match
from app.evidence import sealing
from app.evidence.errors import EvidenceDeleted, QuotaExceeded
from app.evidence.links import incidents_listing, require_incidents
from app.evidence.media import CaptureMetadata, MediaType
from app.evidence.schemas import Capture, EvidenceOut, EvidencePage, EvidencePatch
from app.integrity import chain
from app.models import Evidence, EvidenceUpload, Incident, IncidentRevision
from app.ownership import incident_revisions_join, load_owned
from app.pagination import cursor_datetime, cursor_uuid, decode_cursor, encode_cursor


@dataclass(frozen=True)
class NewEvidence:
    """A verified file and what is known about it, ready to be recorded."""

    evidence_id: uuid.UUID
    blob: FinishedBlob
    media: MediaType
    capture: CaptureMetadata
    file_name: str
    caption: str
    incident_ids: Sequence[uuid.UUID]
    file_key_enc: bytes


def quota_used(
    session: Session, account_id: uuid.UUID, now: datetime, *, besides: uuid.UUID | None = None
) -> int:
    """Bytes held or reserved: live evidence plus unfinished, unexpired uploads (but `besides`)."""
    stored = session.scalar(
        select(func.coalesce(func.sum(Evidence.size), 0)).where(
            Evidence.account_id == account_id, Evidence.deleted_at.is_(None)
        )
    )
    reserved_query = select(func.coalesce(func.sum(EvidenceUpload.length), 0)).where(
        EvidenceUpload.account_id == account_id,
        EvidenceUpload.completed_at.is_(None),
        EvidenceUpload.expires_at > now,
    )
    if besides is not None:
        reserved_query = reserved_query.where(EvidenceUpload.id != besides)
    return int(stored or 0) + int(session.scalar(reserved_query) or 0)


def require_quota(
    session: Session,
    account_id: uuid.UUID,
    adding: int,
    quota: int,
    *,
    besides: uuid.UUID | None = None,
) -> None:
    used = quota_used(session, account_id, utcnow(), besides=besides)
    if used + adding > quota:
        raise QuotaExceeded(
            f"This file needs {adding} bytes; {max(quota - used, 0)} of your {quota} remain."
        )


def record(session: Session, key: DataKey, new: NewEvidence, *, quota: int) -> Evidence:
    """Add the evidence row and its `evidence.added` event; the caller's transaction commits.

    The quota is checked again here, against what is stored now. The incident links were
    checked when the upload began (a link made then stays valid, as any link does).
    """
    account_id = key.account_id
    chain.lock_chain(session, account_id)
    require_quota(session, account_id, new.blob.size, quota, besides=new.evidence_id)
    now = utcnow()
    details = sealing.Details(
        file_name=new.file_name, caption=new.caption, capture=new.capture.as_dict()
    )
    event = chain.append_event(
        session,
        account_id,
        chain.EVIDENCE_ADDED,
        new.evidence_id,
        1,
        None,
        new.blob.sha256_hex,
        recorded_at=now,
    )
    row = Evidence(
        id=new.evidence_id,
        account_id=account_id,
        sha256=new.blob.sha256_hex,
        size=new.blob.size,
        media_type=new.media.mime,
        incident_ids=to_tags(sorted(set(new.incident_ids))),
        version=1,
        received_at=now,
        chain_seq=event.seq,
        blob_key=new.blob.blob_key,
        file_key_enc=new.file_key_enc,
        details_enc=sealing.seal_details(key, sealing.TABLE, new.evidence_id, details),
    )
    session.add(row)
    session.flush()
    return row


def etag(row: Evidence) -> str:
    return f'"{row.version}-{row.sha256[:16]}"'


def evidence_out(key: DataKey, row: Evidence, listed_by: Collection[uuid.UUID] = ()) -> EvidenceOut:
    """The API view; `listed_by`: the incidents that link it from their side (links.py)."""
    assert row.details_enc is not None
    details = sealing.open_details(key, sealing.TABLE, row.id, row.details_enc)
    stored = _stored_links(row)
    return EvidenceOut(
        id=row.id,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        file_name=details.file_name,
        caption=details.caption,
        incident_ids=sorted(stored | set(listed_by)),
        capture=Capture.model_validate(details.capture),
        received_at=row.received_at,
        etag=linked_etag(etag(row), set(listed_by) - stored),
    )


def _stored_links(row: Evidence) -> set[uuid.UUID]:
    return {uuid.UUID(value) for value in from_tags(row.incident_ids)}


def linked_out(session: Session, key: DataKey, rows: Sequence[Evidence]) -> list[EvidenceOut]:
    """The API views of `rows`, each with the links made from either side."""
    listing = incidents_listing(session, key.account_id, [row.id for row in rows])
    return [evidence_out(key, row, listing[row.id]) for row in rows]


def find(
    session: Session, account_id: uuid.UUID, evidence_id: uuid.UUID, *, lock: bool = False
) -> Evidence:
    """The caller's evidence (deleted or not), or 404."""
    return load_owned(session, Evidence, account_id, evidence_id, lock=lock)


def get_live(
    session: Session, account_id: uuid.UUID, evidence_id: uuid.UUID, *, lock: bool = False
) -> Evidence:
    """The caller's evidence; 404 if unknown or another's, 410 once deleted."""
    row = find(session, account_id, evidence_id, lock=lock)
    if row.deleted_at is not None:
        raise EvidenceDeleted("This evidence was deleted.")
    return row


def _linked_from_incident(
    session: Session, account_id: uuid.UUID, incident_id: uuid.UUID
) -> list[uuid.UUID]:
    """Evidence ids that the incident's current revision lists."""
    tags = session.scalar(
        select(IncidentRevision.evidence_ids)
        .join(Incident, incident_revisions_join())
        .where(
            Incident.id == incident_id,
            Incident.account_id == account_id,
            IncidentRevision.revision == Incident.current_revision,
        )
    )
    return [uuid.UUID(value) for value in from_tags(tags)]


def list_evidence(
    session: Session,
    key: DataKey,
    incident_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> EvidencePage:
    """Live evidence, oldest first; for an incident: linked from either side."""
    account_id = key.account_id
    query = select(Evidence).where(Evidence.account_id == account_id, Evidence.deleted_at.is_(None))
    if incident_id is not None:
        listed = _linked_from_incident(session, account_id, incident_id)
        query = query.where(
            or_(
                Evidence.incident_ids.contains(f"|{incident_id}|", autoescape=True),
                Evidence.id.in_(listed),
            )
        )
    if cursor:
        received, last_id = decode_cursor(cursor, 2)
        after = (cursor_datetime(received), cursor_uuid(last_id))
        query = query.where(
            or_(
                Evidence.received_at > after[0],
                (Evidence.received_at == after[0]) & (Evidence.id > after[1]),
            )
        )
    rows = session.scalars(query.order_by(Evidence.received_at, Evidence.id).limit(limit + 1)).all()
    items = linked_out(session, key, rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.received_at.isoformat(), str(last.id))
    return EvidencePage(items=items, next_cursor=next_cursor)


def update(
    session: Session,
    key: DataKey,
    evidence_id: uuid.UUID,
    patch: EvidencePatch,
    if_match: str | None,
) -> EvidenceOut:
    """Replace the caption and/or incident links; 412 unless If-Match names this version."""
    row = get_live(session, key.account_id, evidence_id, lock=True)
    [current] = linked_out(session, key, [row])
    require_match(if_match, current.etag, lambda: current)
    assert row.details_enc is not None
    details = sealing.open_details(key, sealing.TABLE, row.id, row.details_enc)
    caption = details.caption if patch.caption is None else patch.caption
    # What this side stores: the links an incident made from its side stay the incident's.
    stored = sorted(_stored_links(row))
    links = stored if patch.incident_ids is None else patch.incident_ids
    if caption == current.caption and links == stored:
        return current
    require_incidents(session, key.account_id, links, already=stored)
    row.details_enc = sealing.seal_details(
        key,
        sealing.TABLE,
        row.id,
        sealing.Details(file_name=details.file_name, caption=caption, capture=details.capture),
    )
    row.incident_ids = to_tags(links)
    row.version += 1
    session.flush()
    [out] = linked_out(session, key, [row])
    return out


def delete(
    session: Session, key: DataKey, evidence_id: uuid.UUID, if_match: str | None
) -> str | None:
    """Destroy the file key and details, record `evidence.deleted`; return the blob to remove.

    Deleting deleted evidence again changes nothing and returns the blob key only if its
    removal had not finished.
    """
    chain.lock_chain(session, key.account_id)
    row = find(session, key.account_id, evidence_id, lock=True)
    if row.deleted_at is not None:
        return row.blob_key
    [current] = linked_out(session, key, [row])
    require_match(if_match, current.etag, lambda: current)
    now = utcnow()
    event = chain.append_event(
        session,
        key.account_id,
        chain.EVIDENCE_DELETED,
        row.id,
        2,
        None,
        row.sha256,
        recorded_at=now,
    )
    row.deleted_at = now
    row.deleted_seq = event.seq
    row.file_key_enc = None
    row.details_enc = None
    row.version += 1
    session.flush()
    return row.blob_key


def forget_blob(
    session: Session, account_id: uuid.UUID, evidence_id: uuid.UUID, blob_key: str
) -> None:
    """Note that a deleted evidence's blob is gone (the cleanup command retries otherwise)."""
    row = session.get(Evidence, (account_id, evidence_id))
    if row is not None and row.deleted_at is not None and row.blob_key == blob_key:
        row.blob_key = None
