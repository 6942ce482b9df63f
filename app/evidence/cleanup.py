"""`python -m app.cli cleanup`: remove what abandoned uploads and deletions left behind.

1. Unfinished uploads past their expiry (and not leased): their stored bytes, then the row.
   Stored bytes go first: if the run stops between the two, the next run repeats it.
2. Finished uploads past their expiry: the row only (the evidence keeps its blob).
3. Deleted evidence whose blob could not be removed at the time: the blob.
4. Blobs and uploads in progress in the store that no row refers to (a crashed one-request
   upload, an erased account), once older than the upload expiry. Age, not state, decides:
   an upload that is being written is always younger than that, or referred to by its row.
Safe to run at any time, from any machine, as often as wanted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select

from app.blobs import BlobStoreError, remove_unreferenced
from app.blobs.encrypted import WriterState
from app.context import AppContext
from app.db import rowcount, utcnow, write_session
from app.evidence import completion
from app.models import Evidence, EvidenceUpload

log = logging.getLogger("app.evidence")
PREFIX = "evidence/"


@dataclass
class CleanupReport:
    expired_uploads: int = 0
    finished_uploads: int = 0
    deleted_blobs: int = 0
    orphans: int = 0


def run_cleanup(ctx: AppContext, now: datetime | None = None) -> CleanupReport:
    now = now or utcnow()
    report = CleanupReport()
    report.expired_uploads = _expired_uploads(ctx, now)
    report.finished_uploads = _finished_uploads(ctx, now)
    report.deleted_blobs = _deleted_evidence(ctx)
    report.orphans = _orphans(ctx, now - timedelta(seconds=ctx.settings.upload_expiry_seconds))
    return report


def _abandoned(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        EvidenceUpload.completed_at.is_(None),
        EvidenceUpload.expires_at <= now,
        or_(EvidenceUpload.lease_token.is_(None), EvidenceUpload.lease_until < now),
    )


def _expired_uploads(ctx: AppContext, now: datetime) -> int:
    with ctx.sessionmaker() as session:
        rows = session.execute(
            select(EvidenceUpload.id, EvidenceUpload.blob_key, EvidenceUpload.writer_state).where(
                *_abandoned(now)
            )
        ).all()
    removed = 0
    for upload_id, blob_key, writer_state in rows:
        state = WriterState.from_json(writer_state) if writer_state else None
        try:
            if state is not None:
                ctx.blobs.abort(state.upload)
            ctx.blobs.delete(blob_key)
        except BlobStoreError:
            log.warning("an expired upload's blob could not be removed; will retry")
            continue
        with write_session(ctx.sessionmaker) as session, session.begin():
            session.execute(
                delete(EvidenceUpload)
                .where(EvidenceUpload.id == upload_id, *_abandoned(now))
                .execution_options(synchronize_session=False)
            )
        removed += 1
    return removed


def _finished_uploads(ctx: AppContext, now: datetime) -> int:
    with write_session(ctx.sessionmaker) as session, session.begin():
        result = session.execute(
            delete(EvidenceUpload)
            .where(EvidenceUpload.completed_at.is_not(None), EvidenceUpload.expires_at <= now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)


def _deleted_evidence(ctx: AppContext) -> int:
    with ctx.sessionmaker() as session:
        rows = session.execute(
            select(Evidence.account_id, Evidence.id, Evidence.blob_key).where(
                Evidence.deleted_at.is_not(None), Evidence.blob_key.is_not(None)
            )
        ).all()
    for account_id, evidence_id, blob_key in rows:
        if blob_key is not None:
            completion.remove_evidence_blob(ctx, blob_key, account_id, evidence_id)
    return len(rows)


def _orphans(ctx: AppContext, older_than: datetime) -> int:
    with ctx.sessionmaker() as session:
        referenced = set(session.scalars(select(EvidenceUpload.blob_key)))
        referenced |= {key for key in session.scalars(select(Evidence.blob_key)) if key is not None}
    return remove_unreferenced(ctx.blobs, PREFIX, referenced, older_than)
