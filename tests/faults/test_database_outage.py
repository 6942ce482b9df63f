"""The database goes away mid-request: 503 problem+json, then recovery without a restart.

PostgreSQL: the test database stops accepting connections and every server connection to it
is terminated (`pg_terminate_backend`) while writers are in flight: what a database restart or
failover looks like from the app. Every answer must then be a 2xx or a 503 problem+json with
Retry-After (never a 500, never a hang); once connections are allowed again the same process
serves again, and everything acknowledged is there.

SQLite: the tests run as root, who ignores file permissions, so removing them exercises
nothing. SQLite's real outage is another process holding the database lock (a backup, a
migration): writes must give up after the busy timeout with a 503, reads must go on (WAL), and
writes must succeed again when the lock is released.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.settings import Settings
from tests.conftest import PG_URL, LiveServer, _pg_admin_url, start_server, stop_server
from tests.diary.support import incident_body
from tests.faults.support import Outcomes, Victim, assert_diary_whole, sign_up, write_incidents

pytestmark = pytest.mark.slow


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"]
    body = response.json()
    assert body["type"].endswith("/service-unavailable")
    assert body["request_id"] == response.headers["x-request-id"]


@pytest.fixture
def server(settings: Settings, app: FastAPI, tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(settings, tmp_path / "server.log")
    yield live
    stop_server(live)


def _set_connections(database: str, allowed: bool) -> None:
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
        if not allowed:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": database},
            )
    admin.dispose()


def test_database_outage_gives_503_and_the_same_process_recovers(
    settings: Settings, server: LiveServer
) -> None:
    if PG_URL:
        postgres_outage(settings, server)
    else:
        sqlite_lock_out(settings, server)


def postgres_outage(settings: Settings, server: LiveServer) -> None:
    database = str(make_url(settings.effective_database_url).database)
    victim = sign_up(server.url)
    outcomes = Outcomes()
    stop = threading.Event()
    threads = write_incidents(lambda _: server.url, victim, outcomes, stop, 4)
    try:
        while len(outcomes.acknowledged) < 10:
            time.sleep(0.02)
        _set_connections(database, allowed=False)
        time.sleep(1.0)  # writers keep going into the outage
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert_unavailable(http.get("/v1/incidents", headers=victim.auth))
            assert_unavailable(
                http.post("/v1/incidents", json=incident_body(), headers=victim.auth)
            )
            assert_unavailable(http.get("/readyz"))
            assert http.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        _set_connections(database, allowed=True)
    # Nothing but 2xx and 503 problem+json while the database was away.
    assert set(outcomes.refused.values()) == {503}, outcomes.bodies
    for content_type, _ in outcomes.bodies.values():
        assert content_type.startswith("application/problem+json")
    assert not outcomes.unknown, "no request may hang or lose its connection"
    _assert_recovers(server, victim, outcomes)


def sqlite_lock_out(settings: Settings, server: LiveServer) -> None:
    victim = sign_up(server.url)
    path = str(make_url(settings.effective_database_url).database)
    holder = sqlite3.connect(path, isolation_level=None, timeout=30)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            started = time.monotonic()
            refused = http.post("/v1/incidents", json=incident_body(), headers=victim.auth)
            assert_unavailable(refused)
            assert time.monotonic() - started < 30
            # Readers are not blocked by a writer in WAL mode.
            assert http.get("/v1/incidents", headers=victim.auth).status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _assert_recovers(server, victim, Outcomes())


def _assert_recovers(server: LiveServer, victim: Victim, outcomes: Outcomes) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        deadline = time.monotonic() + 15
        while http.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the app did not recover without a restart"
            time.sleep(0.2)
        created = http.post(
            "/v1/incidents", json=incident_body(description="incident after"), headers=victim.auth
        )
        assert created.status_code == 201, created.text
    outcomes.acknowledged["after"] = str(created.json()["id"])
    assert_diary_whole(server.url, victim, outcomes)
