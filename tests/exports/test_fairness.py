"""Export workers are fair across accounts (issue 12): one account's queue does not delay
another account's export behind all of it."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from fastapi import FastAPI

from app.crypto.signing import SigningKeys
from app.exports.jobs import runner
from app.exports.jobs.runner import ExportRunner


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> tuple[list[uuid.UUID], threading.Event]:
    """run_job replaced by a recorder whose first call waits until the test releases it."""
    order: list[uuid.UUID] = []
    release = threading.Event()

    def fake_run_job(
        _ctx: object, _keys: object, _account: uuid.UUID, export_id: uuid.UUID
    ) -> None:
        order.append(export_id)
        if len(order) == 1:
            assert release.wait(10)

    monkeypatch.setattr(runner, "run_job", fake_run_job)
    return order, release


def _wait_until_started(order: list[uuid.UUID], count: int = 1) -> None:
    deadline = time.monotonic() + 10
    while len(order) < count:
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.01)


def _runner(app: FastAPI) -> ExportRunner:
    return ExportRunner(app.state.ctx, SigningKeys.generate())


def test_one_accounts_queue_does_not_delay_another_accounts_export(
    app: FastAPI, recorded: tuple[list[uuid.UUID], threading.Event]
) -> None:
    order, release = recorded
    work = _runner(app)  # EXPORT_WORKERS is 1 by default: one job at a time
    a, b = uuid.uuid4(), uuid.uuid4()
    a_jobs = [uuid.uuid4() for _ in range(3)]
    b_job = uuid.uuid4()
    try:
        work.start(a_jobs[0], a)
        _wait_until_started(order)  # the worker has taken A's first job and is making it
        assert order == [a_jobs[0]]
        work.start(a_jobs[1], a)
        work.start(a_jobs[2], a)
        work.start(b_job, b)  # queued last, but B has had nothing made yet
        assert work.waiting() == [b_job, a_jobs[1], a_jobs[2]]
        release.set()
        _wait_until_started(order, 4)
    finally:
        work.close()
    assert order == [a_jobs[0], b_job, a_jobs[1], a_jobs[2]]


def test_accounts_take_turns_whatever_order_their_jobs_arrived_in(
    app: FastAPI, recorded: tuple[list[uuid.UUID], threading.Event]
) -> None:
    order, release = recorded
    work = _runner(app)
    blocker, a, b, c = (uuid.uuid4() for _ in range(4))
    first = uuid.uuid4()
    jobs = {account: [uuid.uuid4() for _ in range(2)] for account in (a, b, c)}
    try:
        work.start(first, blocker)
        _wait_until_started(order)
        for account in (a, b, c):  # all of A's, then all of B's, then all of C's
            for job in jobs[account]:
                work.start(job, account)
        work.start(first, blocker)  # already running here: not queued twice
        release.set()
        _wait_until_started(order, 7)
    finally:
        work.close()
    rounds = [jobs[a][0], jobs[b][0], jobs[c][0], jobs[a][1], jobs[b][1], jobs[c][1]]
    assert order == [first, *rounds]
