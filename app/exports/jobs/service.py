"""Export jobs: create (idempotent, a few at a time per account), read, list, delete, download.

A job is a row (app.models.exports) made by the request and completed by a worker
(app.exports.jobs.runner). Every query here is scoped to the account whose data key the caller
holds: another account's id is 404. Creating a job and downloading its result are recorded in
the account's audit trail, in the same transaction.

The result is a stream (app.crypto.stream) under its own random key, which is stored wrapped
by the account's data key; both the wrapped key and the stream's associated data name the
export and the account, so a result cannot be passed off as another export's or account's.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import record as audit
from app.crypto.fields import DataKey, decrypt_bytes, decrypt_field, encrypt_bytes, encrypt_field
from app.db import utcnow
from app.errors import AppError, Conflict, TooManyRequests, id_in_use
from app.exports.jobs.schemas import ExportIn, ExportOptions, ExportOut, ExportPage, PreparedBy
from app.integrity import chain
from app.models import ExportJob
from app.ownership import load_owned
from app.pagination import newest_first, split_page
from app.security.client import ClientFacts

TABLE = "exports"
EXPORT_NOT_FOUND = "No such export."
PENDING = ("queued", "running")
MEDIA_TYPES = {"pdf": "application/pdf", "bundle": "application/zip", "json": "application/json"}
SUFFIXES = {"pdf": "pdf", "bundle": "zip", "json": "json"}


class TooManyExports(TooManyRequests):
    status, type, title = 429, "too-many-exports", "Too many exports in progress"


class NotReady(Conflict):
    status, type, title = 409, "export-not-ready", "The export is not ready"


class ExportExpired(AppError):
    status, type, title = 410, "export-expired", "The export has expired"


class ResultCorrupted(AppError):
    """The stored result is missing or failed authentication: it is never served."""

    status, type, title = 500, "export-integrity", "The stored export failed its integrity check"


def result_aad(account_id: uuid.UUID, export_id: uuid.UUID) -> bytes:
    return f"chronicle/v1/export\x00{export_id}\x00{account_id}".encode()


def wrap_result_key(key: DataKey, export_id: uuid.UUID, file_key: bytes) -> bytes:
    return encrypt_bytes(key, file_key, table=TABLE, column="file_key", row_id=export_id)


def unwrap_result_key(key: DataKey, export_id: uuid.UUID, wrapped: bytes) -> bytes:
    return decrypt_bytes(key, wrapped, table=TABLE, column="file_key", row_id=export_id)


@dataclass(frozen=True)
class ExportRequest:
    """What was asked for, and the name of who asked (sealed together in `request_enc`)."""

    options: ExportOptions
    requester_name: str | None = None

    def seal(self, key: DataKey, export_id: uuid.UUID) -> bytes:
        doc = {
            "options": self.options.model_dump(mode="json"),
            "requester_name": self.requester_name,
        }
        return encrypt_field(key, json.dumps(doc), table=TABLE, column="request", row_id=export_id)

    @classmethod
    def open(cls, key: DataKey, row: ExportJob) -> ExportRequest:
        text = decrypt_field(key, row.request_enc, table=TABLE, column="request", row_id=row.id)
        doc: dict[str, Any] = json.loads(text)
        return cls(ExportOptions.model_validate(doc["options"]), doc["requester_name"])


def options_of(body: ExportIn) -> ExportOptions:
    return ExportOptions.model_validate(body.model_dump(exclude={"id"}))


def export_out(key: DataKey, row: ExportJob) -> ExportOut:
    request = ExportRequest.open(key, row)
    expired = row.status == "done" and row.expires_at is not None and row.expires_at <= utcnow()
    return ExportOut.model_validate(
        {
            **request.options.model_dump(),
            "id": row.id,
            "status": "expired" if expired else row.status,
            "prepared_by": PreparedBy(
                kind="caseworker" if row.requested_by == "caseworker" else "victim",
                id=row.requested_by_id,
                name=request.requester_name,
            ),
            "created_at": row.created_at,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
            "expires_at": row.expires_at,
            "size": row.size,
            "sha256": row.sha256,
            "error": row.error,
        }
    )


def find(session: Session, account_id: uuid.UUID, export_id: uuid.UUID) -> ExportJob:
    return load_owned(session, ExportJob, account_id, export_id, missing=EXPORT_NOT_FOUND)


def _pending(session: Session, account_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ExportJob)
            .where(ExportJob.account_id == account_id, ExportJob.status.in_(PENDING))
        )
        or 0
    )


def _replay(
    key: DataKey, existing: ExportJob, options: ExportOptions, actor: audit.AuditActor
) -> ExportOut:
    """The original job, if this is a repeat of its create by the same person; else 409."""
    if (existing.requested_by, existing.requested_by_id) != (actor.kind, actor.id):
        raise id_in_use()
    if ExportRequest.open(key, existing).options != options:
        raise id_in_use()
    return export_out(key, existing)


def create(
    session: Session,
    key: DataKey,
    body: ExportIn,
    actor: audit.AuditActor,
    facts: ClientFacts,
    *,
    limit: int,
) -> tuple[ExportOut, bool]:
    """Queue an export of the account whose key this is: (job, created).

    The same `id` with the same options returns the original job. At most `limit` jobs of one
    account may be queued or running; the chain lock makes that count exact across processes.
    """
    options = options_of(body)
    chain.lock_chain(session, key.account_id)
    if body.id is not None:
        existing = session.get(ExportJob, (key.account_id, body.id), populate_existing=True)
        if existing is not None:
            return _replay(key, existing, options, actor), False
    if _pending(session, key.account_id) >= limit:
        raise TooManyExports(
            f"You can have {limit} exports queued or running at once; wait for one to finish.",
            headers={"Retry-After": "30"},
        )
    row = ExportJob(
        id=body.id or uuid.uuid4(),
        account_id=key.account_id,
        format=options.format,
        status="queued",
        requested_by=actor.kind,
        requested_by_id=actor.id,
        created_at=utcnow(),
        attempts=0,
    )
    row.request_enc = ExportRequest(options, actor.name).seal(key, row.id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # pragma: no cover - the chain lock serialises the account
        raise id_in_use() from exc
    audit.record_audit(
        session,
        key,
        actor,
        audit.EXPORT_CREATED,
        object_type="export",
        object_id=row.id,
        facts=facts,
        details={"format": options.format, "evidence": "yes" if options.include_evidence else "no"},
    )
    return export_out(key, row), True


def list_exports(session: Session, key: DataKey, limit: int, cursor: str | None) -> ExportPage:
    mine = select(ExportJob).where(ExportJob.account_id == key.account_id)
    query = newest_first(mine, ExportJob.created_at, ExportJob.id, limit, cursor)
    page, next_cursor = split_page(
        session.scalars(query).all(), limit, lambda row: (row.created_at, row.id)
    )
    return ExportPage(items=[export_out(key, row) for row in page], next_cursor=next_cursor)


def delete(session: Session, key: DataKey, export_id: uuid.UUID) -> str | None:
    """Remove the job; return its blob for the caller to delete once this has committed.

    A worker still making it finds the row gone when it finishes and removes what it wrote.
    """
    row = find(session, key.account_id, export_id)
    blob_key = row.blob_key
    session.delete(row)
    session.flush()
    return blob_key


@dataclass(frozen=True)
class Result:
    """A finished export, ready to be read and decrypted."""

    export_id: uuid.UUID
    format: str
    blob_key: str
    file_key: bytes
    aad: bytes
    size: int
    sha256: str
    created_at: datetime

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def file_name(self) -> str:
        return f"chronicle-{self.format}-{self.created_at:%Y%m%d}-{self.export_id}.{self.suffix}"

    @property
    def suffix(self) -> str:
        return SUFFIXES[self.format]


def downloadable(
    session: Session,
    key: DataKey,
    export_id: uuid.UUID,
    actor: audit.AuditActor,
    facts: ClientFacts,
) -> Result:
    """The finished result, its download recorded; 409 until it is done, 410 once expired."""
    row = find(session, key.account_id, export_id)
    if row.status == "expired" or (
        row.status == "done" and row.expires_at is not None and row.expires_at <= utcnow()
    ):
        raise ExportExpired("This export has expired; create it again.")
    if row.status != "done":
        detail = "This export failed; create it again." if row.status == "failed" else None
        raise NotReady(detail or f"This export is {row.status}; try again when it is done.")
    assert row.blob_key and row.file_key_enc and row.size is not None and row.sha256
    audit.record_audit(
        session,
        key,
        actor,
        audit.EXPORT_DOWNLOADED,
        object_type="export",
        object_id=row.id,
        facts=facts,
        details={"format": row.format},
    )
    return Result(
        export_id=row.id,
        format=row.format,
        blob_key=row.blob_key,
        file_key=unwrap_result_key(key, row.id, row.file_key_enc),
        aad=result_aad(key.account_id, row.id),
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
    )
