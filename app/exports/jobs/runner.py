"""Running export jobs in the background, in this process, with their state in the database.

Each process has a small pool of worker threads (EXPORT_WORKERS), so exports, which are CPU
work, never take the request thread pool and at most that many run at once. A job is claimed
with a compare-and-set on its row (queued, or running with a lapsed lease -> running under a new
lease token), so however many processes are asked to run it, one does. The worker renews its
lease while it works (a heartbeat thread); a worker that dies (a crash, a restart) stops
renewing, and the next process that sees the job (GET /v1/exports...) takes it over. A job
that has been tried MAX_ATTEMPTS times is failed instead, so an export that kills its worker
cannot go on killing workers.

Finishing is a compare-and-set on the lease token too: a worker whose job was taken over or
deleted meanwhile removes what it wrote and records nothing.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from app.blobs import remove_blob
from app.context import AppContext, CtxDep, ExportWorkers
from app.crypto.signing import SigningKeys
from app.crypto.stream import StreamCorrupted
from app.db import rowcount, utcnow, write_session
from app.evidence.errors import IntegrityFailure
from app.exports.bundle.write import BundleError
from app.exports.jobs import results
from app.models import ExportJob

log = logging.getLogger("app.exports")
MAX_ATTEMPTS = 3
FAILED = "The export could not be made. Try again later."
EVIDENCE_ALTERED = "An evidence file no longer matches what was recorded on receipt."
GAVE_UP = "The export was interrupted too often and was not made. Try again later."


@dataclass(frozen=True)
class Claim:
    export_id: uuid.UUID
    account_id: uuid.UUID
    token: str
    blob_key: str
    previous_blob: str | None


def _takeable(now: datetime) -> ColumnElement[bool]:
    return or_(
        ExportJob.status == "queued",
        and_(ExportJob.status == "running", ExportJob.lease_until < now),
    )


def unattended(
    session: Session, account_id: uuid.UUID, export_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """The account's jobs that no live worker holds: queued, or running with a lapsed lease.

    A queued job may be waiting in another process's pool; starting it here as well is
    harmless (one claim wins) and gets it made even if that process has gone.
    """
    query = select(ExportJob.id).where(ExportJob.account_id == account_id, _takeable(utcnow()))
    if export_id is not None:
        query = query.where(ExportJob.id == export_id)
    return list(session.scalars(query))


def _lease(ctx: AppContext, now: datetime) -> datetime:
    return now + timedelta(seconds=ctx.settings.export_lease_seconds)


def _job(account_id: uuid.UUID, export_id: uuid.UUID) -> ColumnElement[bool]:
    # Export ids are the client's to choose, unique per account only.
    return and_(ExportJob.account_id == account_id, ExportJob.id == export_id)


def claim(ctx: AppContext, account_id: uuid.UUID, export_id: uuid.UUID) -> Claim | None:
    """Take the job if it is queued or its worker's lease has lapsed; None if not ours to run."""
    now = utcnow()
    token = secrets.token_hex(16)
    with write_session(ctx.sessionmaker) as session, session.begin():
        row = session.get(ExportJob, (account_id, export_id))
        if row is None or row.status not in ("queued", "running"):
            return None
        previous = row.blob_key
        blob_key = f"exports/{account_id}/{export_id}.{secrets.token_hex(8)}"
        taken = session.execute(
            update(ExportJob)
            .where(_job(account_id, export_id), ExportJob.attempts < MAX_ATTEMPTS, _takeable(now))
            .values(
                status="running",
                lease_token=token,
                lease_until=_lease(ctx, now),
                started_at=now,
                attempts=ExportJob.attempts + 1,
                blob_key=blob_key,
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(taken) == 1:
            return Claim(export_id, account_id, token, blob_key, previous)
        session.execute(
            update(ExportJob)
            .where(_job(account_id, export_id), ExportJob.attempts >= MAX_ATTEMPTS, _takeable(now))
            .values(
                status="failed", error=GAVE_UP, finished_at=now, lease_token=None, blob_key=None
            )
            .execution_options(synchronize_session=False)
        )
        return None


def _renew(ctx: AppContext, job: Claim) -> bool:
    with write_session(ctx.sessionmaker) as session, session.begin():
        renewed = session.execute(
            update(ExportJob)
            .where(_job(job.account_id, job.export_id), ExportJob.lease_token == job.token)
            .values(lease_until=_lease(ctx, utcnow()))
            .execution_options(synchronize_session=False)
        )
        return rowcount(renewed) == 1


@contextmanager
def heartbeat(ctx: AppContext, job: Claim) -> Iterator[None]:
    """Renew the job's lease every third of its length until the block ends."""
    stop = threading.Event()
    every = ctx.settings.export_lease_seconds / 3

    def beat() -> None:
        while not stop.wait(every):
            try:
                if not _renew(ctx, job):
                    return  # deleted or taken over: finishing will find out
            except Exception as exc:  # a blip: the next beat tries again
                log.warning("export lease renewal failed", extra={"error_type": type(exc).__name__})

    thread = threading.Thread(target=beat, name="export-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _finish(ctx: AppContext, job: Claim, made: results.Made) -> bool:
    now = utcnow()
    with write_session(ctx.sessionmaker) as session, session.begin():
        done = session.execute(
            update(ExportJob)
            .where(_job(job.account_id, job.export_id), ExportJob.lease_token == job.token)
            .values(
                status="done",
                file_key_enc=made.file_key_enc,
                size=made.blob.size,
                sha256=made.blob.sha256_hex,
                finished_at=now,
                expires_at=now + timedelta(seconds=ctx.settings.export_expiry_seconds),
                lease_token=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        return rowcount(done) == 1


def _fail(ctx: AppContext, job: Claim, title: str) -> None:
    with write_session(ctx.sessionmaker) as session, session.begin():
        session.execute(
            update(ExportJob)
            .where(_job(job.account_id, job.export_id), ExportJob.lease_token == job.token)
            .values(
                status="failed",
                error=title,
                finished_at=utcnow(),
                lease_token=None,
                lease_until=None,
                blob_key=None,
            )
            .execution_options(synchronize_session=False)
        )


def _remove(ctx: AppContext, blob_key: str | None) -> None:
    if blob_key is not None:
        remove_blob(ctx.blobs, blob_key)


def run_job(
    ctx: AppContext, keys: SigningKeys, account_id: uuid.UUID, export_id: uuid.UUID
) -> None:
    """Make the export if it is ours to make; record done or failed. Never raises."""
    try:
        job = claim(ctx, account_id, export_id)
        if job is None:
            return
        _remove(ctx, job.previous_blob)  # what an interrupted attempt left
        with heartbeat(ctx, job):
            try:
                made = results.make(ctx, keys, job.account_id, job.export_id, job.blob_key)
            except Exception as exc:
                # The type only: messages can carry victim content.
                log.error(
                    "export failed",
                    extra={"error_type": type(exc).__name__, "export_id": str(export_id)},
                )
                _fail(ctx, job, EVIDENCE_ALTERED if _altered(exc) else FAILED)
                return
        if not _finish(ctx, job, made):
            _remove(ctx, made.blob.blob_key)
    except Exception as exc:  # the database went away: the lease lapses and another run retries
        log.error(
            "export job interrupted",
            extra={"error_type": type(exc).__name__, "export_id": str(export_id)},
        )


def _altered(exc: Exception) -> bool:
    return isinstance(exc, BundleError | StreamCorrupted | IntegrityFailure)


class ExportRunner:
    """This process's export workers; asking twice for one job queues it once.

    Fair across accounts: a free worker does not take the job queued first but the oldest
    queued job of the account whose last job here started longest ago (an account with none
    running or started since it last had a job waiting counts as never). So one account's
    queue (up to MAX_EXPORT_JOBS) delays another account's export by at most one job per
    worker, not by the whole queue. Each process is fair among the jobs it was asked to run.
    """

    def __init__(self, ctx: AppContext, keys: SigningKeys) -> None:
        self.ctx = ctx
        self.keys = keys
        self.pool = ThreadPoolExecutor(
            max_workers=ctx.settings.export_workers, thread_name_prefix="export"
        )
        self._lock = threading.Lock()
        # (account, export id) -> arrival number: waiting here for a worker. Export ids are
        # unique per account only, so a job is always named by both.
        self._waiting: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
        self._active: set[tuple[uuid.UUID, uuid.UUID]] = set()  # taken by a worker, not done
        self._running: dict[uuid.UUID, int] = {}  # account -> jobs running here
        self._last_start: dict[uuid.UUID, int] = {}  # account -> when (a counter) its last began
        self._clock = 0

    def start(self, export_id: uuid.UUID, account_id: uuid.UUID) -> None:
        job = (account_id, export_id)
        with self._lock:
            if job in self._waiting or job in self._active:
                return
            self._clock += 1
            self._waiting[job] = self._clock
        # One worker task per waiting job; which job each task runs is chosen when it starts.
        self.pool.submit(self._run_next)

    def resume(self, account_id: uuid.UUID, export_ids: Iterable[uuid.UUID]) -> None:
        """Start these jobs here (see `unattended`); the claim decides who really runs each."""
        for export_id in export_ids:
            self.start(export_id, account_id)

    def waiting(self) -> list[uuid.UUID]:
        """The jobs waiting for a worker, in the order they would be taken (for tests)."""
        with self._lock:
            return [export_id for _, export_id in sorted(self._waiting, key=self._priority)]

    def _priority(self, job: tuple[uuid.UUID, uuid.UUID]) -> tuple[int, int]:
        return self._last_start.get(job[0], 0), self._waiting[job]

    def _take(self) -> tuple[uuid.UUID, uuid.UUID] | None:
        with self._lock:
            if not self._waiting:
                return None
            job = min(self._waiting, key=self._priority)
            del self._waiting[job]
            self._active.add(job)
            account_id = job[0]
            self._clock += 1
            self._last_start[account_id] = self._clock
            self._running[account_id] = self._running.get(account_id, 0) + 1
            return job

    def _done(self, job: tuple[uuid.UUID, uuid.UUID]) -> None:
        account_id = job[0]
        with self._lock:
            self._active.discard(job)
            self._running[account_id] -= 1
            if self._running[account_id] == 0:
                del self._running[account_id]
                # Forget an idle account, so the map stays as small as the work in hand.
                if not any(owner == account_id for owner, _ in self._waiting):
                    self._last_start.pop(account_id, None)

    def close(self) -> None:
        """At shutdown: jobs not yet started stay queued in the database; a running one ends."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _run_next(self) -> None:
        taken = self._take()
        if taken is None:
            return
        account_id, export_id = taken
        try:
            run_job(self.ctx, self.keys, account_id, export_id)
        finally:
            self._done(taken)


def get_runner(ctx: CtxDep) -> ExportWorkers:
    """The app's export workers, started with its context (`AppContext.exports`)."""
    return ctx.exports


RunnerDep = Annotated[ExportWorkers, Depends(get_runner)]
