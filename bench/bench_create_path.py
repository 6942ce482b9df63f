"""One incident create, looked at closely: SQL statements and milliseconds per create.

In-process (Starlette's TestClient, one client, one account), on SQLite and on PostgreSQL:
every statement the engine sends is counted by a `before_cursor_execute` listener, and every
COMMIT and ROLLBACK by the engine's transaction events (psycopg's implicit BEGIN is not seen:
on PostgreSQL add one round trip per transaction),
and the time per create is the mean over the run. The baseline beside it is the same client
doing GET /healthz, which pays the middleware and the test client but no database work.

Run: python -m bench.bench_create_path   (BENCH_CREATES, BENCH_PG_URL)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from bench.harness import ROOT

CREATES = int(os.environ.get("BENCH_CREATES", "300"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
INCIDENT = {
    "occurred_at": "2024-03-01T20:05:00Z",
    "behaviours": ["loitering", "following"],
    "channel": "in_person",
    "location": "Outside 12 Elm Road",
    "description": "He waited by the bins, then followed me to the bus stop.",
}


@contextmanager
def _postgres() -> Iterator[str | None]:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"chronicle_path_{uuid.uuid4().hex[:8]}"
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


def _verb(statement: str) -> str:
    words = statement.split()
    if not words:
        return "?"
    verb = words[0].upper()
    if verb == "SELECT" and "FOR UPDATE" in statement.upper():
        return "SELECT FOR UPDATE"
    if verb == "SELECT" and words[1:2] == ["1"]:
        return "SELECT 1 (pre-ping)"
    return verb


def _counter(verbs: Counter[str], verb: str) -> Any:
    def listener(_conn: Any) -> None:
        verbs[verb] += 1

    return listener


def _measure(name: str, database_url: str | None) -> list[str]:
    from app.main import create_app
    from app.settings import Settings

    with tempfile.TemporaryDirectory() as data:
        url = database_url or f"sqlite:///{Path(data) / 'chronicle.db'}"
        env = {**os.environ, "DATA_DIR": data, "DATABASE_URL": url, "ENVIRONMENT": "development"}
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        settings = Settings(
            environment="development", data_dir=Path(data), database_url=url, log_level="WARNING"
        )
        app = create_app(settings)
        verbs: Counter[str] = Counter()

        def count(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
            verbs[_verb(statement)] += 1

        with TestClient(app) as client:
            login = {"username": "path-bench", "password": "correct horse battery staple"}
            login["username"] = client.post("/v1/accounts", json=login).json()["username"]
            token = client.post("/v1/auth/token", json=login).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            for _ in range(20):  # warm up: caches, pool, the chain head row
                assert client.post("/v1/incidents", json=INCIDENT, headers=auth).status_code == 201
            started = time.perf_counter()
            for _ in range(CREATES):
                client.get("/healthz")
            health_ms = (time.perf_counter() - started) * 1000 / CREATES
            engine = app.state.ctx.engine
            event.listen(engine, "before_cursor_execute", count)
            listeners = [(kind, _counter(verbs, kind.upper())) for kind in ("commit", "rollback")]
            for kind, listener in listeners:
                event.listen(engine, kind, listener)
            started = time.perf_counter()
            for _ in range(CREATES):
                assert client.post("/v1/incidents", json=INCIDENT, headers=auth).status_code == 201
            create_ms = (time.perf_counter() - started) * 1000 / CREATES
            event.remove(engine, "before_cursor_execute", count)
            for kind, listener in listeners:
                event.remove(engine, kind, listener)
        engine.dispose()
    per = {verb: n / CREATES for verb, n in sorted(verbs.items())}
    total = sum(per.values())
    lines = [f"\n== one create on {name}: {CREATES} creates, one client, in-process =="]
    lines.append(f"{'GET /healthz (middleware floor)':<38} {health_ms:6.2f} ms")
    lines.append(f"{'POST /v1/incidents':<38} {create_ms:6.2f} ms  = {create_ms / health_ms:.1f}x")
    lines.append(f"{'statements per create':<38} {total:6.1f}")
    lines += [f"  {verb:<36} {n:6.2f}" for verb, n in per.items()]
    return lines


async def run() -> None:
    for line in _measure("SQLite", None):
        print(line)
    with _postgres() as pg_url:
        if pg_url is not None:
            for line in _measure("PostgreSQL", pg_url):
                print(line)


if __name__ == "__main__":
    asyncio.run(run())
