"""Incident create throughput and latency at 64 clients beside a bare FastAPI endpoint, and
reading a 10,000-incident diary, on SQLite and on PostgreSQL.

Create (validation, encryption, chain append, commit) is measured twice:
- saturated: 64 clients (64 accounts, as 64 victims' phones) each sending as fast as it can,
  the throughput figure; by Little's law its latency is just 64 / throughput;
- at half that rate, open loop: the same 64 clients send on a fixed schedule and latency is
  timed from the scheduled moment (no coordinated omission): the p99 budget applies here.
Then one account gets 10,000 incidents (seeded in-process through the service, to keep the run
short), and we time paging through them over HTTP, the integrity check over that chain,
load_facts (the read-and-decrypt floor) and GET /v1/chronology over HTTP beside that floor.

Run: python -m bench.bench_incidents   (BENCH_SECONDS per phase, BENCH_PG_URL, BENCH_LIST_SIZE)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import ROOT, Result, Worker, call, drive, ratio_line, server

CLIENTS = 64
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
LIST_SIZE = int(os.environ.get("BENCH_LIST_SIZE", "10000"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct horse battery staple"
INCIDENT = {
    "occurred_at": "2024-03-01T20:05:00Z",
    "behaviours": ["loitering", "following"],
    "channel": "in_person",
    "location": "Outside 12 Elm Road",
    "description": "He waited by the bins for half an hour, then followed me to the bus stop. " * 4,
    "impact": {"alarm_or_distress": True, "daily_life_changes": ["changed_route"]},
    "witnesses": "My neighbour Sam",
}


@contextmanager
def _chronicle(database_url: str | None) -> Iterator[tuple[str, Path, str]]:
    """The app on a fresh data dir, migrated: (base URL, data dir, database URL)."""
    with tempfile.TemporaryDirectory() as data:
        url = database_url or f"sqlite:///{Path(data) / 'chronicle.db'}"
        env = {"DATA_DIR": data, "ENVIRONMENT": "development", "LOG_LEVEL": "WARNING"}
        env["DATABASE_URL"] = url
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        with server("app.main:create_app", env=env) as base:
            yield base, Path(data), url


@contextmanager
def _postgres_database() -> Iterator[str | None]:
    """A scratch PostgreSQL database, dropped afterwards; None if the server is unreachable."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"chronicle_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"(PostgreSQL skipped: {type(exc).__name__})")
        admin.dispose()
        yield None
        return
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def _accounts(base: str, count: int) -> list[dict[str, str]]:
    """`count` registered, logged-in accounts: their Authorization headers."""
    async with aiohttp.ClientSession(base) as session:
        gate = asyncio.Semaphore(4)

        async def one(n: int) -> dict[str, str]:
            login = {"username": f"bench-{n}-{uuid.uuid4().hex[:6]}", "password": PASSWORD}
            async with gate:
                _, created = await call(session, "POST", "/v1/accounts", json=login)
                login["username"] = created["username"]  # the handle, with the suffix
                _, body = await call(session, "POST", "/v1/auth/token", json=login)
            return {"Authorization": f"Bearer {body['access_token']}"}

        return list(await asyncio.gather(*(one(n) for n in range(count))))


async def drive_at_rate(
    name: str, base: str, worker: Worker, *, clients: int, rate: float, seconds: float
) -> Result:
    """Open loop: each client sends every clients/rate s; latency counts from the schedule."""
    latencies: list[float] = []
    errors = 0
    interval = clients / rate
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base, connector=connector) as session:
        start = time.perf_counter()

        async def loop(index: int) -> None:
            nonlocal errors
            due = start + interval * index / clients
            while due < start + seconds:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                ok = await worker(session, index)
                latencies.append(time.perf_counter() - due)
                errors += 0 if ok else 1
                due += interval

        await asyncio.gather(*(loop(i) for i in range(clients)))
        elapsed = time.perf_counter() - start
    return Result(name, len(latencies), errors, elapsed, latencies)


def _seed(data: Path, database_url: str, account_id: uuid.UUID, count: int) -> float:
    """Write `count` incidents for one account through the service (same code as the API)."""
    from app.crypto.keyring import load_keyring
    from app.db import make_engine, make_sessionmaker, write_session
    from app.diary.incidents.schemas import IncidentCreate
    from app.diary.incidents.service import create_incident
    from app.security.keys import load_data_key

    ring = load_keyring(data / "keyring.json", None, allow_generate=False)
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    first = datetime(2023, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    for batch in range(0, count, 1000):
        with write_session(factory) as session:
            key = load_data_key(session, ring, account_id)
            for n in range(batch, min(count, batch + 1000)):
                body = {**INCIDENT, "occurred_at": first + timedelta(minutes=97 * n)}
                create_incident(session, key, IncidentCreate.model_validate(body))
            session.commit()
    engine.dispose()
    return time.perf_counter() - started


def _load_facts_seconds(data: Path, database_url: str, account_id: uuid.UUID) -> float:
    from app.crypto.keyring import load_keyring
    from app.db import make_engine, make_sessionmaker
    from app.diary.facts import load_facts
    from app.diary.filters import IncidentFilters
    from app.security.keys import load_data_key

    ring = load_keyring(data / "keyring.json", None, allow_generate=False)
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        key = load_data_key(session, ring, account_id)
        started = time.perf_counter()
        incidents, _ = load_facts(session, key, account_id, IncidentFilters())
        elapsed = time.perf_counter() - started
    engine.dispose()
    assert len(incidents) >= LIST_SIZE
    return elapsed


async def _read_big_diary(
    base: str, data: Path, database_url: str, auth: dict[str, str]
) -> list[str]:
    async with aiohttp.ClientSession(base) as session:
        _, me = await call(session, "GET", "/v1/me", headers=auth)
        account_id = uuid.UUID(me["id"])
        seeded = await asyncio.to_thread(_seed, data, database_url, account_id, LIST_SIZE)
        pages: list[float] = []
        seen, cursor = 0, None
        started = time.perf_counter()
        while True:
            params: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            before = time.perf_counter()
            status, body = await call(session, "GET", "/v1/incidents", params=params, headers=auth)
            pages.append(time.perf_counter() - before)
            assert status == 200, body
            seen += len(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        listing = time.perf_counter() - started
        before = time.perf_counter()
        status, report = await call(session, "GET", "/v1/diary/integrity", headers=auth)
        verify = time.perf_counter() - before
        assert status == 200 and report["ok"], report
        before = time.perf_counter()
        status, summary = await call(session, "GET", "/v1/chronology", headers=auth)
        chronology = time.perf_counter() - before
        assert status == 200, summary
    facts = await asyncio.to_thread(_load_facts_seconds, data, database_url, account_id)
    page = Result("", len(pages), 0, listing, pages)
    p50, p99 = page.percentile(50), page.percentile(99)
    return [
        f"{'seed ' + str(seen) + ' incidents in-process':<38} {seeded:6.2f} s"
        f"  ({seen / seeded:.0f}/s, one account, 1,000 per transaction)",
        f"{'list all ' + str(seen) + ' over HTTP (limit 200)':<38} {listing:6.2f} s"
        f"  ({len(pages)} pages, p50 {p50:.1f} ms, p99 {p99:.1f} ms)",
        f"{'integrity check of that chain':<38} {verify:6.2f} s  ({report['length']} events)",
        f"{'load_facts (read + decrypt floor)':<38} {facts:6.2f} s",
        f"{'GET /v1/chronology of that diary':<38} {chronology:6.2f} s"
        f"  = {chronology / facts:.1f}x the floor (budget: <= 5x)",
    ]


async def _backend(name: str, database_url: str | None, baseline: Result) -> None:
    with _chronicle(database_url) as (base, data, url):
        auth = await _accounts(base, CLIENTS)

        async def create(session: aiohttp.ClientSession, i: int) -> bool:
            status, _ = await call(session, "POST", "/v1/incidents", json=INCIDENT, headers=auth[i])
            return status == 201

        async def create_one_account(session: aiohttp.ClientSession, _: int) -> bool:
            status, _ = await call(session, "POST", "/v1/incidents", json=INCIDENT, headers=auth[0])
            return status == 201

        saturated = await drive(
            "POST /v1/incidents, saturated", base, create, clients=CLIENTS, seconds=SECONDS
        )
        paced = await drive_at_rate(
            "POST /v1/incidents at half that rate",
            base,
            create,
            clients=CLIENTS,
            rate=saturated.throughput / 2,
            seconds=SECONDS,
        )
        single = await drive(
            "POST, 64 devices of one account",
            base,
            create_one_account,
            clients=CLIENTS,
            seconds=SECONDS / 2,
        )
        reading = await _read_big_diary(base, data, url, auth[1])
    print(f"\n== incidents on {name}: {CLIENTS} clients, {SECONDS:.0f} s per phase, one worker ==")
    for result in (baseline, saturated, paced, single):
        print(result.line())
    print(ratio_line("create throughput", saturated.throughput, baseline.throughput, ">= 0.25x"))
    print(f"{'create p99 at half the saturated rate':<38} {paced.percentile(99):6.1f} ms"
          "  (budget: < 50 ms)")  # fmt: skip
    for line in reading:
        print(line)


async def run() -> None:
    async def bare_get(session: aiohttp.ClientSession, _: int) -> bool:
        return (await call(session, "GET", "/bare"))[0] == 200

    with server("bench.bare_app:app", factory=False) as bare_url:
        baseline = await drive(
            "bare FastAPI GET (baseline)", bare_url, bare_get, clients=CLIENTS, seconds=SECONDS
        )
    await _backend("SQLite", None, baseline)
    with _postgres_database() as pg_url:
        if pg_url is not None:
            await _backend("PostgreSQL", pg_url, baseline)


if __name__ == "__main__":
    asyncio.run(run())
