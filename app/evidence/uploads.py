"""tus uploads in the database: creation, the lease that one request holds, saving progress.

No transaction stays open while a body streams. A request that writes to an upload first
*claims* it in a short transaction: a conditional UPDATE that sets a random lease token and a
lease expiry, and matches only if the upload is the caller's, unfinished, at the offset the
client named, and not leased by anyone else (or that lease ran out). Exactly one of two
concurrent requests can match, on SQLite and on PostgreSQL alike; the other gets 409. The
streaming then runs with no transaction open, renewing the lease as it goes, and a second
short transaction saves the new writer state and offset only if the lease is still the
request's own (`WHERE lease_token = :token`), releasing it. A request that fails releases the
lease and leaves the saved state as it was; a process that dies leaves a lease that simply
runs out, after which the client resumes from the last saved offset.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.blobs.encrypted import WriterState
from app.crypto.fields import DataKey
from app.db import from_tags, rowcount, to_tags, utcnow, write_session
from app.errors import NotFound, TooManyRequests
from app.evidence import sealing
from app.evidence.errors import OffsetMismatch, UploadBusy, UploadExpired
from app.evidence.links import require_incidents
from app.evidence.schemas import UploadList, UploadOut
from app.evidence.service import require_quota
from app.evidence.tus import UploadMetadata
from app.integrity import chain
from app.models import EvidenceUpload
from app.ownership import load_owned
from app.settings import Settings

Factory = sessionmaker[Session]


@dataclass(frozen=True)
class Claim:
    """An upload as a request found it, and the lease it holds on it (if any)."""

    upload_id: uuid.UUID
    account_id: uuid.UUID
    token: str
    length: int
    received: int
    blob_key: str
    state: WriterState | None
    file_key_enc: bytes
    details_enc: bytes
    incident_ids: tuple[uuid.UUID, ...]
    expires_at: datetime
    completed: bool


def create(
    session: Session, key: DataKey, settings: Settings, length: int, metadata: UploadMetadata
) -> EvidenceUpload:
    """A new upload, its size reserved against the quota (the chain lock serialises that)."""
    account_id = key.account_id
    chain.lock_chain(session, account_id)
    require_incidents(
        session,
        account_id,
        metadata.incident_ids,
        loc=("header", "Upload-Metadata", "incident_ids"),
    )
    require_quota(session, account_id, length, settings.account_quota_bytes)
    if len(open_uploads(session, account_id)) >= settings.max_open_uploads:
        raise TooManyOpenUploads(
            f"At most {settings.max_open_uploads} unfinished uploads at once: finish or "
            "cancel one (GET /v1/uploads lists them)."
        )
    upload_id, now = uuid.uuid4(), utcnow()
    _, wrapped = sealing.new_wrapped_file_key(key, upload_id)
    details = sealing.Details(file_name=metadata.file_name, caption=metadata.caption)
    upload = EvidenceUpload(
        id=upload_id,
        account_id=account_id,
        length=length,
        received=0,
        blob_key=sealing.new_blob_key(account_id, upload_id),
        writer_state=None,
        file_key_enc=wrapped,
        details_enc=sealing.seal_details(key, sealing.UPLOADS_TABLE, upload_id, details),
        incident_ids=to_tags(metadata.incident_ids),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.upload_expiry_seconds),
    )
    session.add(upload)
    session.flush()
    return upload


class TooManyOpenUploads(TooManyRequests):
    type, title = "too-many-open-uploads", "Too many unfinished uploads"


def open_uploads(session: Session, account_id: uuid.UUID) -> list[EvidenceUpload]:
    """The account's unfinished, unexpired uploads, oldest first (they hold a reservation)."""
    return list(
        session.scalars(
            select(EvidenceUpload)
            .where(
                EvidenceUpload.account_id == account_id,
                EvidenceUpload.completed_at.is_(None),
                EvidenceUpload.expires_at > utcnow(),
            )
            .order_by(EvidenceUpload.created_at, EvidenceUpload.id)
        )
    )


def _claim_of(upload: EvidenceUpload, token: str) -> Claim:
    return Claim(
        upload_id=upload.id,
        account_id=upload.account_id,
        token=token,
        length=upload.length,
        received=upload.received,
        blob_key=upload.blob_key,
        state=WriterState.from_json(upload.writer_state) if upload.writer_state else None,
        file_key_enc=upload.file_key_enc,
        details_enc=upload.details_enc,
        incident_ids=tuple(uuid.UUID(value) for value in from_tags(upload.incident_ids)),
        expires_at=upload.expires_at,
        completed=upload.completed_at is not None,
    )


def find(session: Session, account_id: uuid.UUID, upload_id: uuid.UUID) -> EvidenceUpload:
    """The caller's upload; 404 if unknown or another's, 410 once expired and unfinished."""
    upload = load_owned(session, EvidenceUpload, account_id, upload_id, missing="No such upload.")
    if upload.completed_at is None and upload.expires_at <= utcnow():
        raise UploadExpired("This upload expired before it was finished; start a new one.")
    return upload


def look(factory: Factory, account_id: uuid.UUID, upload_id: uuid.UUID) -> Claim:
    """The upload as stored, without a lease (for HEAD)."""
    with factory() as session:
        return _claim_of(find(session, account_id, upload_id), token="")


def claim(
    factory: Factory,
    account_id: uuid.UUID,
    upload_id: uuid.UUID,
    offset: int,
    lease_seconds: int,
) -> Claim:
    """Lease the upload at `offset` for this request (see the module docstring).

    A finished upload is returned without a lease (`completed`), if `offset` is its length.
    """
    with write_session(factory) as session, session.begin():
        upload = find(session, account_id, upload_id)
        if offset != upload.received:
            raise OffsetMismatch(
                f"The upload is at offset {upload.received}; send Upload-Offset to match.",
                headers={"Upload-Offset": str(upload.received)},
            )
        if upload.completed_at is not None:
            return _claim_of(upload, token="")
        token, now = secrets.token_hex(16), utcnow()
        taken = session.execute(
            update(EvidenceUpload)
            .where(
                EvidenceUpload.id == upload_id,
                EvidenceUpload.account_id == account_id,
                EvidenceUpload.received == offset,
                EvidenceUpload.completed_at.is_(None),
                or_(EvidenceUpload.lease_token.is_(None), EvidenceUpload.lease_until < now),
            )
            .values(lease_token=token, lease_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        if rowcount(taken) != 1:
            raise UploadBusy("Another request is writing to this upload; try again shortly.")
        return _claim_of(upload, token)


def _held(upload_id: uuid.UUID, token: str) -> tuple[ColumnElement[bool], ...]:
    return (EvidenceUpload.id == upload_id, EvidenceUpload.lease_token == token)


def _under_lease(factory: Factory, held: Claim, **values: object) -> None:
    """Update the upload while the lease is still this request's; 409 once another took it."""
    with write_session(factory) as session, session.begin():
        result = session.execute(
            update(EvidenceUpload)
            .where(*_held(held.upload_id, held.token))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if rowcount(result) != 1:
        raise UploadBusy("This upload was taken over by another request; resume with HEAD.")


def renew(factory: Factory, held: Claim, lease_seconds: int) -> None:
    """Extend the lease, or 409 if it is no longer this request's."""
    _under_lease(factory, held, lease_until=utcnow() + timedelta(seconds=lease_seconds))


def save(
    factory: Factory, held: Claim, state: WriterState, *, keep_lease_seconds: int | None = None
) -> None:
    """Save progress under the lease, releasing it (or keeping it to finish the upload); 409
    if the lease is no longer this request's, and then nothing is saved."""
    lease: dict[str, object] = {"lease_token": None, "lease_until": None}
    if keep_lease_seconds is not None:
        lease = {"lease_until": utcnow() + timedelta(seconds=keep_lease_seconds)}
    _under_lease(factory, held, writer_state=state.to_json(), received=state.received, **lease)


def release(factory: Factory, held: Claim) -> None:
    """Give the lease back without saving anything."""
    with write_session(factory) as session, session.begin():
        session.execute(
            update(EvidenceUpload)
            .where(*_held(held.upload_id, held.token))
            .values(lease_token=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def lock_held(session: Session, held: Claim) -> EvidenceUpload:
    """In the completing transaction: the upload row, still under this request's lease."""
    upload = session.scalars(
        select(EvidenceUpload)
        .where(*_held(held.upload_id, held.token))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if upload is None:
        raise UploadBusy("This upload was taken over by another request.")
    return upload


def mark_completed(upload: EvidenceUpload) -> None:
    """The upload's evidence exists: keep the row (HEAD still answers) without its secrets."""
    upload.completed_at = utcnow()
    upload.writer_state = None
    upload.lease_token = None
    upload.lease_until = None


def discard(factory: Factory, held: Claim) -> None:
    """Forget an upload that was refused at completion (its blob is removed by the caller)."""
    with write_session(factory) as session, session.begin():
        session.execute(
            delete(EvidenceUpload)
            .where(*_held(held.upload_id, held.token))
            .execution_options(synchronize_session=False)
        )


def terminate(factory: Factory, account_id: uuid.UUID, upload_id: uuid.UUID) -> Claim:
    """Delete the upload (tus termination) unless a request is writing to it right now.

    Returns what it was, so the caller can remove the blob of an unfinished one.
    """
    with write_session(factory) as session, session.begin():
        upload = session.scalars(
            select(EvidenceUpload)
            .where(EvidenceUpload.id == upload_id, EvidenceUpload.account_id == account_id)
            .with_for_update()
        ).one_or_none()
        if upload is None:
            raise NotFound("No such upload.")
        if upload.lease_token is not None and (upload.lease_until or utcnow()) > utcnow():
            raise UploadBusy("A request is writing to this upload; try again shortly.")
        gone = _claim_of(upload, token="")
        session.delete(upload)
        return gone


def list_open(session: Session, key: DataKey) -> UploadList:
    """GET /v1/uploads: what an app that lost its upload URLs needs to resume or cancel."""
    items = []
    for upload in open_uploads(session, key.account_id):
        details = sealing.open_details(key, sealing.UPLOADS_TABLE, upload.id, upload.details_enc)
        items.append(
            UploadOut(
                id=upload.id,
                location=f"/v1/uploads/{upload.id}",
                offset=upload.received,
                length=upload.length,
                file_name=details.file_name,
                caption=details.caption,
                incident_ids=[uuid.UUID(v) for v in from_tags(upload.incident_ids)],
                created_at=upload.created_at,
                expires_at=upload.expires_at,
            )
        )
    return UploadList(items=items)
