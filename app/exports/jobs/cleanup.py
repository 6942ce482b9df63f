"""`python -m app.cli cleanup`, exports: expired results, abandoned jobs, orphaned results.

1. Finished exports past `expires_at`: the stored result goes first, then the row is marked
   `expired` (its wrapped key erased). If the run stops between the two, the next repeats it.
2. Jobs that nobody has worked on for ABANDONED_AFTER (queued, or running with a lease that
   lapsed that long ago): failed, so they stop counting against the account's limit. Reading
   a job through the API restarts it long before that; this is for jobs nobody asks about.
3. Results in the store that no row refers to (a deleted export whose removal failed, an
   erased account), once older than the upload expiry. A result being written is referred to
   by its job from the moment its attempt starts, so age only guards against a race.
Safe to run at any time, from any machine, as often as wanted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from app.blobs import BlobStoreError, remove_unreferenced
from app.context import AppContext
from app.db import rowcount, utcnow, write_session
from app.models import ExportJob

log = logging.getLogger("app.exports")
PREFIX = "exports/"
ABANDONED_AFTER = timedelta(hours=6)
ABANDONED = "The export was not made in time. Create it again."


@dataclass
class ExportCleanupReport:
    expired: int = 0
    abandoned: int = 0
    orphans: int = 0


def run_export_cleanup(ctx: AppContext, now: datetime | None = None) -> ExportCleanupReport:
    now = now or utcnow()
    return ExportCleanupReport(
        expired=_expired(ctx, now),
        abandoned=_abandoned(ctx, now),
        orphans=_orphans(ctx, now - timedelta(seconds=ctx.settings.upload_expiry_seconds)),
    )


def _expired(ctx: AppContext, now: datetime) -> int:
    with ctx.sessionmaker() as session:
        rows = session.execute(
            select(ExportJob.account_id, ExportJob.id, ExportJob.blob_key).where(
                ExportJob.status == "done", ExportJob.expires_at <= now
            )
        ).all()
    removed = 0
    for account_id, export_id, blob_key in rows:
        try:
            if blob_key is not None:
                ctx.blobs.delete(blob_key)
        except BlobStoreError:
            log.warning("an expired export's result could not be removed; will retry")
            continue
        with write_session(ctx.sessionmaker) as session, session.begin():
            session.execute(
                update(ExportJob)
                .where(
                    ExportJob.account_id == account_id,
                    ExportJob.id == export_id,
                    ExportJob.status == "done",
                )
                .values(status="expired", blob_key=None, file_key_enc=None)
                .execution_options(synchronize_session=False)
            )
        removed += 1
    return removed


def _abandoned(ctx: AppContext, now: datetime) -> int:
    cutoff = now - ABANDONED_AFTER
    with write_session(ctx.sessionmaker) as session, session.begin():
        result = session.execute(
            update(ExportJob)
            .where(
                or_(
                    and_(ExportJob.status == "queued", ExportJob.created_at < cutoff),
                    and_(ExportJob.status == "running", ExportJob.lease_until < cutoff),
                )
            )
            .values(
                status="failed", error=ABANDONED, finished_at=now, lease_token=None, blob_key=None
            )
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)


def _orphans(ctx: AppContext, older_than: datetime) -> int:
    with ctx.sessionmaker() as session:
        referenced = {key for key in session.scalars(select(ExportJob.blob_key)) if key is not None}
    return remove_unreferenced(ctx.blobs, PREFIX, referenced, older_than)
