"""Two server processes on one database: nothing that must be shared is kept per process.

Failed logins counted by one process lock the account on the other; a refresh token rotated
on one process and replayed on the other is detected as reuse and ends the session on both;
incidents created through both at once form one gap-free chain; an upload started on one is
finished on the other, and the storage quota counts what both have reserved. Written for
PostgreSQL (the scaled set-up) and run on SQLite too, where several processes on one file must
hold the same. Both processes share one blob store, as several instances share one bucket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.settings import Settings
from tests.conftest import PASSWORD, LiveServer, start_server, stop_server
from tests.evidence import support as s
from tests.faults.support import Outcomes, assert_diary_whole, sign_up, write_incidents

pytestmark = pytest.mark.slow


@pytest.fixture
def servers(settings: Settings, app: FastAPI, tmp_path: Path) -> Iterator[list[LiveServer]]:
    pair = [start_server(settings, tmp_path / f"server-{i}.log") for i in (1, 2)]
    yield pair
    for server in pair:
        stop_server(server)


def test_failed_logins_on_one_process_lock_the_account_on_the_other(
    servers: list[LiveServer],
) -> None:
    first, second = servers
    victim = sign_up(first.url)
    wrong = {"username": victim.username, "password": "not the password at all, sorry"}
    for attempt in range(5):
        server = first if attempt < 3 else second
        failed = httpx.post(server.url + "/v1/auth/token", json=wrong, timeout=30)
        assert failed.status_code == 401, failed.text
    right = {"username": victim.username, "password": PASSWORD}
    for server in (second, first):
        locked = httpx.post(server.url + "/v1/auth/token", json=right, timeout=30)
        assert locked.status_code == 429, locked.text
        assert int(locked.headers["retry-after"]) > 0


def test_a_refresh_token_replayed_on_the_other_process_ends_the_session(
    servers: list[LiveServer],
) -> None:
    first, second = servers
    victim = sign_up(first.url)
    rotated = httpx.post(
        first.url + "/v1/auth/refresh", json={"refresh_token": victim.refresh}, timeout=30
    )
    assert rotated.status_code == 200, rotated.text
    newer = httpx.post(
        second.url + "/v1/auth/refresh",
        json={"refresh_token": rotated.json()["refresh_token"]},
        timeout=30,
    )
    assert newer.status_code == 200, newer.text
    # The first token is two rotations old: a thief's copy, whichever process sees it.
    replayed = httpx.post(
        second.url + "/v1/auth/refresh", json={"refresh_token": victim.refresh}, timeout=30
    )
    assert replayed.status_code == 401, replayed.text
    latest = newer.json()
    for server in (first, second):
        refused = httpx.post(
            server.url + "/v1/auth/refresh",
            json={"refresh_token": latest["refresh_token"]},
            timeout=30,
        )
        assert refused.status_code == 401, refused.text
        me = httpx.get(
            server.url + "/v1/me",
            headers={"Authorization": f"Bearer {latest['access_token']}"},
            timeout=30,
        )
        assert me.status_code == 401, me.text


def test_chain_appends_through_both_processes_stay_gap_free(servers: list[LiveServer]) -> None:
    victim = sign_up(servers[0].url)
    outcomes = Outcomes()
    stop = threading.Event()
    threads = write_incidents(lambda n: servers[n % 2].url, victim, outcomes, stop, 6)
    deadline = time.monotonic() + 20
    while len(outcomes.acknowledged) < 120 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not outcomes.refused and not outcomes.unknown, outcomes.bodies
    assert len(outcomes.acknowledged) >= 120
    for server in servers:
        assert_diary_whole(server.url, victim, outcomes)


def test_an_upload_resumes_on_the_other_process_and_the_quota_holds_across_both(
    settings: Settings, app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mib = 1024 * 1024
    monkeypatch.setenv("ACCOUNT_QUOTA_BYTES", str(3 * mib))
    pair = [start_server(settings, tmp_path / f"upload-{i}.log") for i in (1, 2)]
    try:
        victim = sign_up(pair[0].url)
        with (
            httpx.Client(base_url=pair[0].url, timeout=60) as one,
            httpx.Client(base_url=pair[1].url, timeout=60) as two,
        ):
            data = s.big_jpeg(2 * mib)
            location = s.create_upload(one, victim.auth, len(data))
            assert s.patch(one, victim.auth, location, 0, data[:mib]).status_code == 204
            # The other process knows where the upload stands and takes it to the end.
            assert s.head(two, victim.auth, location).headers["Upload-Offset"] == str(mib)
            assert s.patch(two, victim.auth, location, mib, data[mib:]).status_code == 204
            evidence_id = location.rsplit("/", 1)[-1]
            record = one.get(f"/v1/evidence/{evidence_id}", headers=victim.auth).json()
            assert record["sha256"] == s.sha256(data)
            content = one.get(f"/v1/evidence/{evidence_id}/content", headers=victim.auth)
            assert content.content == data

            # 2 MiB of 3 are used: reservations made through either process count on both.
            assert s.create(two, victim.auth, 3 * mib // 2).status_code == 413
            assert s.create(one, victim.auth, 3 * mib // 4).status_code == 201
            refused = s.create(two, victim.auth, 3 * mib // 4)
            assert refused.status_code == 413
            assert refused.headers["content-type"] == "application/problem+json"
    finally:
        for server in pair:
            stop_server(server)
