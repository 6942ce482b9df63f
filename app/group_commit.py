"""Group commit: concurrent diary writes share one transaction, one commit, one fsync.

Incident and subject creates and amendments are `async def` routes that hand their work to
`GroupCommit.run` instead of opening a session each. Writes that arrive together are queued on
the event loop (admission waits there, holding no thread), and one batch at a time per process
runs in one worker thread, in one transaction:

- the batch's access tokens are resolved in one query (keyed hashes, as `current_actor` does),
  and each caller's data key is unwrapped once, for that caller only;
- every account the batch touches has its chain head locked first, in account-id order, so
  batches of several processes queue behind each other on PostgreSQL instead of deadlocking
  (on SQLite, BEGIN IMMEDIATE already makes the batch the only writer);
- each write runs inside its own SAVEPOINT: one that fails (a 404, 409, 412, bad content, a
  constraint) is rolled back to its savepoint and answers its own error, leaving the others'
  writes, and the chain heads they advanced, untouched; writes of one account run in arrival
  order, so its chain grows in the order its requests came in;
- a write that meets a lost connection (or any database-unavailable error) is not its own
  failure: the transaction is gone, so the whole batch fails with that error and every request
  in it is answered 503 "try again", as a lone request would be;
- writes that can be planned (incident creates, app.planned_writes) are not flushed one by
  one: each consecutive run of them is planned in memory, in arrival order, and inserted
  with one multi-row statement per table, then one for the chain events and one moving the
  heads. A plan that fails wrote nothing and answers its own error. If the planned insert
  itself fails (it should not: the plans checked everything the constraints check), the
  whole batch is rolled back and run again write by write, in savepoints, so every write
  still gets its own exact answer;
- then one COMMIT; only after it returns does any request get its answer. If the commit
  fails, every write in the batch fails (none was acknowledged), as a lone request would.

A lone writer is not delayed; while writes arrive concurrently a batch waits up to
`group_commit_window_ms` for more to join (bounded, a few ms). No transaction stays open
across a wait on the event loop: the whole batch, BEGIN to COMMIT, is one thread-pool call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from app.context import AppContext
from app.crypto.fields import DataKey
from app.db import write_session
from app.errors import DATABASE_UNAVAILABLE, AppError, Unauthorized
from app.integrity.chain import PlannedAppend, lock_chains, write_planned
from app.planned_writes import NotPlannable, Plan, PlannedWrite, insert_planned
from app.security.actor import Actor, actors_for_tokens
from app.security.keys import actor_key

T = TypeVar("T")
Work = Callable[[Session, DataKey], Any]


@dataclass
class _Job:
    token: str
    work: Work
    future: asyncio.Future[Any]
    plan: Plan | None = None
    ok: bool = False
    value: Any = None


class _PlannedInsertFailed(Exception):
    """The batch's planned insert failed: roll back and run the batch write by write."""


@dataclass
class _LoopQueue:
    pending: list[_Job] = field(default_factory=list)
    drainer: asyncio.Task[None] | None = None
    last_batch: int = 0


class GroupCommit:
    """One per app; its queues are per event loop (tests may run several loops in turn)."""

    def __init__(
        self, ctx: AppContext, *, writer_turn: anyio.Lock | None, window_ms: float, max_batch: int
    ) -> None:
        self._ctx = ctx
        self._writer_turn = writer_turn
        self._window = window_ms / 1000
        self._max_batch = max_batch
        self._queues: WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = WeakKeyDictionary()

    async def run(
        self, token: str, work: Callable[[Session, DataKey], T], plan: Plan | None = None
    ) -> T:
        """Run `work(session, caller's key)` in the next batch; its result once committed.

        `plan`, if given, must answer what `work` would, without writing (app.planned_writes);
        the batch uses it when it can and falls back to `work` when it cannot.
        """
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(loop, _LoopQueue())
        job = _Job(token, work, loop.create_future(), plan)
        queue.pending.append(job)
        if queue.drainer is None:
            queue.drainer = loop.create_task(self._drain(queue))
        result: T = await job.future
        return result

    async def _drain(self, queue: _LoopQueue) -> None:
        try:
            while queue.pending:
                await asyncio.sleep(0)  # requests already on their way join this batch
                if queue.last_batch > 1 and len(queue.pending) < self._max_batch:
                    await asyncio.sleep(self._window)
                batch = [job for job in queue.pending[: self._max_batch] if not job.future.done()]
                del queue.pending[: self._max_batch]
                queue.last_batch = len(batch)
                if batch:
                    await self._commit(batch)
        finally:
            queue.drainer = None

    async def _commit(self, batch: list[_Job]) -> None:
        try:
            if self._writer_turn is None:
                await anyio.to_thread.run_sync(self._run_batch, batch)
            else:
                async with self._writer_turn:
                    await anyio.to_thread.run_sync(self._run_batch, batch)
        except BaseException as exc:  # the batch as a whole failed: nobody's write is durable
            cause = _unavailable_cause(exc)
            for job in batch:
                job.ok, job.value = False, cause
            if not isinstance(exc, Exception):
                raise
        finally:
            for job in batch:
                if job.future.done():
                    continue
                if job.ok:
                    job.future.set_result(job.value)
                else:
                    job.future.set_exception(job.value)

    def _run_batch(self, batch: list[_Job]) -> None:
        try:
            self._run_batch_once(batch, planned=True)
        except _PlannedInsertFailed:
            for job in batch:
                job.ok, job.value = False, None
            self._run_batch_once(batch, planned=False)

    def _run_batch_once(self, batch: list[_Job], *, planned: bool) -> None:
        with write_session(self._ctx.sessionmaker) as session:
            hmac_key = self._ctx.keyring.hmac_key
            actors = actors_for_tokens(session, hmac_key, {job.token for job in batch})
            lock_chains(session, (actor.account_id for actor in actors.values()))
            if len(batch) == 1 and not (planned and batch[0].plan):
                self._run_alone(session, batch[0], actors)
                return
            run: list[_Job] = []
            for job in batch:
                if planned and job.plan is not None:
                    run.append(job)
                    continue
                self._run_planned(session, run, actors)
                run = []
                self._run_in_savepoint(session, job, actors)
            self._run_planned(session, run, actors)
            session.commit()

    def _run_planned(self, session: Session, run: list[_Job], actors: dict[str, Actor]) -> None:
        """Plan a run of consecutive plannable writes, insert them at once, then the rest."""
        if not run:
            return
        session.flush()  # anything the ORM still holds goes in before the planned rows
        appends = PlannedAppend(session)
        plans: list[tuple[_Job, PlannedWrite]] = []
        unplanned: list[_Job] = []
        for job in run:
            assert job.plan is not None
            mark = appends.mark()
            try:
                plans.append((job, job.plan(session, self._key(job, actors), appends)))
            except NotPlannable:
                appends.undo_to(mark)
                unplanned.append(job)
            except (AppError, RequestValidationError) as exc:  # its own; it wrote nothing
                appends.undo_to(mark)
                job.value = exc
            except DATABASE_UNAVAILABLE:
                raise
            except Exception as exc:  # unforeseen: let the savepoints sort it out
                raise _PlannedInsertFailed from exc
        try:
            insert_planned(session, [plan for _, plan in plans])
            write_planned(appends)
        except DATABASE_UNAVAILABLE:
            raise
        except Exception as exc:
            raise _PlannedInsertFailed from exc
        for job, plan in plans:
            job.ok, job.value = True, plan.value
        for job in unplanned:
            self._run_in_savepoint(session, job, actors)

    def _key(self, job: _Job, actors: dict[str, Actor]) -> DataKey:
        actor = actors.get(job.token)
        if actor is None:
            raise Unauthorized("The access token is invalid or has expired.")
        return actor_key(self._ctx.keyring, actor)

    def _run_alone(self, session: Session, job: _Job, actors: dict[str, Actor]) -> None:
        """A batch of one needs no savepoint: its failure rolls the transaction back."""
        try:
            value = job.work(session, self._key(job, actors))
        except AppError as exc:
            if exc.keep_changes:
                session.commit()
            raise
        session.commit()
        job.ok, job.value = True, value

    def _run_in_savepoint(self, session: Session, job: _Job, actors: dict[str, Actor]) -> None:
        try:
            key = self._key(job, actors)
        except Unauthorized as exc:
            job.value = exc
            return
        savepoint = session.begin_nested()
        try:
            value = job.work(session, key)
            savepoint.commit()
        except DATABASE_UNAVAILABLE:
            raise  # the transaction is lost, not just this write (see the module docstring)
        except Exception as exc:
            job.value = exc
            if isinstance(exc, AppError) and exc.keep_changes and savepoint.is_active:
                savepoint.commit()
            else:
                savepoint.rollback()
            return
        # Acknowledged only after the batch's COMMIT (see _commit).
        job.ok, job.value = True, value


def _unavailable_cause(exc: BaseException) -> BaseException:
    """The database-unavailable error behind `exc`, if any, so every waiter gets the 503.

    Rolling back a transaction whose connection died can itself fail with another error (a
    PendingRollbackError, say) that hides the lost connection behind it.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DATABASE_UNAVAILABLE):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


async def get_group_commit(request: Request) -> GroupCommit:
    """Async, so that FastAPI resolves it on the event loop, not with a thread-pool hop."""
    committer: GroupCommit = request.app.state.group_commit
    return committer


GroupCommitDep = Annotated[GroupCommit, Depends(get_group_commit)]
