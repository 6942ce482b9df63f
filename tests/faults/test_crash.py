"""SIGKILL the server while writes are in flight; restart it on the same database.

Every write that got a 2xx must be there after the restart, nothing half-written may be
visible (every listed incident reads back whole, with its revision), nothing the server
refused may be stored, and the hash chain must verify with one event per incident. Run on
SQLite (WAL, synchronous=FULL) and on PostgreSQL.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.settings import Settings
from tests.conftest import LiveServer, start_server, stop_server
from tests.faults.support import Outcomes, assert_diary_whole, sign_up, write_incidents

pytestmark = pytest.mark.slow

WRITERS = 4
ROUNDS = 2


def _kill(server: LiveServer) -> None:
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)


def test_acknowledged_writes_survive_sigkill_and_the_chain_verifies(
    settings: Settings, app: FastAPI, tmp_path: Path
) -> None:
    # `app` has created the key ring the server processes share.
    server = start_server(settings, tmp_path / "server.log")
    victim = sign_up(server.url)
    outcomes = Outcomes()
    try:
        for round_ in range(ROUNDS):
            stop = threading.Event()
            threads = write_incidents(
                lambda _, url=server.url: url, victim, outcomes, stop, WRITERS
            )
            deadline = time.monotonic() + 10
            # Let writes pile up, then kill the process while they are in flight.
            while len(outcomes.acknowledged) < 20 * (round_ + 1) and time.monotonic() < deadline:
                time.sleep(0.02)
            _kill(server)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            server = start_server(settings, tmp_path / f"server-{round_}.log")
        assert len(outcomes.acknowledged) >= 20 * ROUNDS
        assert outcomes.unknown, "the kill should have cut writes off"
        assert not outcomes.refused, outcomes.bodies
        assert_diary_whole(server.url, victim, outcomes)
    finally:
        stop_server(server)
