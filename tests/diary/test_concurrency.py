"""Concurrent writers from several devices and several server processes: no gap, no fork.

Two real uvicorn servers run in subprocesses against the test's database (SQLite file or
PostgreSQL database); fifty threads fire creates for one account at both at once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import make_engine
from app.models import ChainEvent
from app.settings import Settings
from tests.conftest import ROOT, User
from tests.diary.support import create_incident, incident_body, integrity, with_etag

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.effective_database_url,
        "KEYRING_PATH": str(settings.effective_keyring_path),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--no-proxy-headers"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


@pytest.fixture
def servers(client: TestClient, settings: Settings, tmp_path: Path) -> Iterator[list[str]]:
    """Two server processes sharing the test's database and key ring."""
    processes, bases = [], []
    try:
        for n in range(2):
            port = _free_port()
            processes.append(_start(settings, port, tmp_path / f"server{n}.log"))
            bases.append(f"http://127.0.0.1:{port}")
        for base, process in zip(bases, processes, strict=True):
            _wait_ready(base, process)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def _fire(count: int, request: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(count)
    results: list[httpx.Response | BaseException] = [RuntimeError("not run")] * count

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = request(n)
        except BaseException as exc:  # reported by the assertion below
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    responses = [r for r in results if isinstance(r, httpx.Response)]
    assert len(responses) == count, [r for r in results if not isinstance(r, httpx.Response)]
    return responses


def test_fifty_concurrent_creates_make_a_gap_free_valid_chain(
    client: TestClient, alice: User, servers: list[str], database_url: str
) -> None:
    def create(n: int) -> httpx.Response:
        body = incident_body(description=f"entry {n}")
        return httpx.post(
            f"{servers[n % 2]}/v1/incidents", json=body, headers=alice.auth, timeout=60
        )

    responses = _fire(50, create)
    assert sorted(r.status_code for r in responses) == [201] * 50, [r.text for r in responses]
    engine = make_engine(database_url)
    with engine.connect() as conn:
        seqs = conn.scalars(select(ChainEvent.seq).order_by(ChainEvent.seq)).all()
    engine.dispose()
    assert list(seqs) == list(range(1, 51))
    report = integrity(client, alice)
    assert (report["ok"], report["length"], report["broken_at"]) == (True, 50, None)
    assert len({r.json()["id"] for r in responses}) == 50


def test_concurrent_amendments_with_one_etag_let_exactly_one_win(
    client: TestClient, alice: User, servers: list[str]
) -> None:
    entry = create_incident(client, alice)

    def amend(n: int) -> httpx.Response:
        return httpx.patch(
            f"{servers[n % 2]}/v1/incidents/{entry['id']}",
            json={"description": f"version {n}"},
            headers=with_etag(alice, entry["etag"]),
            timeout=60,
        )

    responses = _fire(10, amend)
    assert sorted(r.status_code for r in responses) == [200] + [412] * 9
    winner = next(r for r in responses if r.status_code == 200).json()
    assert all(r.json()["current"] == winner for r in responses if r.status_code == 412)
    assert integrity(client, alice)["length"] == 2


def test_concurrent_replays_of_one_create_make_one_incident(
    client: TestClient, alice: User, servers: list[str]
) -> None:
    body = incident_body(id="5d1b8a52-3f0c-4b8e-9a41-2f6c1e7d9b03")

    def create(n: int) -> httpx.Response:
        return httpx.post(
            f"{servers[n % 2]}/v1/incidents", json=body, headers=alice.auth, timeout=60
        )

    responses = _fire(10, create)
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.text for r in responses}) == 1
    assert integrity(client, alice)["length"] == 1
