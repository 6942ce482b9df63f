"""Where a batch of incident creates spends its time: statements per create, ms per phase.

In-process, on SQLite and on PostgreSQL: ACCOUNTS accounts each send one create at once
(httpx over ASGI, one event loop), BURSTS times, so group commit forms batches as it does
under load. Every statement the engine sends is counted (a multi-row INSERT is one), and
the batch thread's time (app.group_commit, BEGIN to COMMIT) is split into its phases by
timing the functions it calls: the token lookup, the chain-head locks, the plans (validate,
seal, chain hash), the planned INSERTs, the chain events and heads, and the rest (BEGIN,
COMMIT and the fsync, the session). The baseline printed beside it is the same run's mean
batch size, so the per-create figures can be read against how much was batched.

Run: python -m bench.profile_create   (BENCH_BURSTS, BENCH_ACCOUNTS, BENCH_BACKENDS, BENCH_PG_URL)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

import app.diary.incidents.routes as incident_routes
import app.group_commit as group_commit
from bench.bench_create_path import INCIDENT, _postgres, _verb
from bench.harness import ROOT

BURSTS = int(os.environ.get("BENCH_BURSTS", "40"))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "32"))
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").lower()
PHASES = {
    "token lookup": (group_commit, "actors_for_tokens"),
    "chain-head locks": (group_commit, "lock_chains"),
    "plans (validate, seal, hash)": (incident_routes, "plan_incident"),
    "planned INSERTs": (group_commit, "insert_planned"),
    "chain events + heads": (group_commit, "write_planned"),
}


def _timed(
    spent: defaultdict[str, float], phase: str, function: Callable[..., Any]
) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[phase] += time.perf_counter() - started

    return wrapper


async def _bursts(app: FastAPI, auths: list[dict[str, str]], bursts: int = BURSTS) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        for _ in range(bursts):
            responses = await asyncio.gather(
                *(http.post("/v1/incidents", json=INCIDENT, headers=auth) for auth in auths)
            )
            assert all(r.status_code == 201 for r in responses), responses[0].text
    return bursts * len(auths)


async def _register(app: FastAPI) -> list[dict[str, str]]:
    transport = httpx.ASGITransport(app=app)
    auths = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        for n in range(ACCOUNTS):
            login = {"username": f"profile-{n}", "password": "correct horse battery staple"}
            reply = await http.post("/v1/accounts", json=login)
            login["username"] = reply.json()["username"]
            token = (await http.post("/v1/auth/token", json=login)).json()["access_token"]
            auths.append({"Authorization": f"Bearer {token}"})
    return auths


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
            environment="development",
            data_dir=Path(data),
            database_url=url,
            log_level="WARNING",
            registrations_per_address_per_hour=100_000,
        )
        app = create_app(settings)
        auths = asyncio.run(_register(app))
        asyncio.run(_bursts(app, auths, 2))  # warm up: caches, pool, every chain head row
        verbs: Counter[str] = Counter()
        spent: defaultdict[str, float] = defaultdict(float)
        batches = [0]

        def count(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
            verbs[_verb(statement)] += 1

        def on_commit(_conn: Any) -> None:
            verbs["COMMIT"] += 1

        originals = {phase: getattr(module, attr) for phase, (module, attr) in PHASES.items()}
        run_batch = group_commit.GroupCommit._run_batch

        def timed_batch(self: Any, batch: Any) -> None:
            batches[0] += 1
            _timed(spent, "batch thread, total", run_batch)(self, batch)

        for phase, (module, attr) in PHASES.items():
            setattr(module, attr, _timed(spent, phase, originals[phase]))
        group_commit.GroupCommit._run_batch = timed_batch  # type: ignore[method-assign]
        engine = app.state.ctx.engine
        event.listen(engine, "before_cursor_execute", count)
        event.listen(engine, "commit", on_commit)
        started = time.perf_counter()
        try:
            creates = asyncio.run(_bursts(app, auths))
        finally:
            elapsed = time.perf_counter() - started
            event.remove(engine, "before_cursor_execute", count)
            event.remove(engine, "commit", on_commit)
            for phase, (module, attr) in PHASES.items():
                setattr(module, attr, originals[phase])
            group_commit.GroupCommit._run_batch = run_batch  # type: ignore[method-assign]
        engine.dispose()
    total = spent.pop("batch thread, total")
    spent["rest (BEGIN, COMMIT + fsync, session)"] = total - sum(spent.values())
    lines = [f"\n== batched creates on {name}: {BURSTS} bursts of {ACCOUNTS}, in-process =="]
    lines.append(f"{'creates per second (in-process)':<40} {creates / elapsed:8.1f}")
    mean = creates / batches[0]
    lines.append(f"{'batches; mean creates per batch':<40} {batches[0]:8d}  {mean:.1f}")
    statements = sum(n for verb, n in verbs.items() if verb != "COMMIT")
    lines.append(f"{'statements per create':<40} {statements / creates:8.2f}")
    lines += [f"  {verb:<38} {n / creates:8.3f}" for verb, n in sorted(verbs.items())]
    lines.append(f"{'batch thread ms per create':<40} {total * 1000 / creates:8.3f}")
    lines += [
        f"  {phase:<38} {seconds * 1000 / creates:8.3f}  ({seconds / total:4.0%})"
        for phase, seconds in spent.items()
    ]
    return lines


def run() -> None:
    if "sqlite" in BACKENDS:
        print("\n".join(_measure("SQLite", None)))
    if "postgresql" in BACKENDS:
        with _postgres() as pg_url:
            if pg_url is not None:
                print("\n".join(_measure("PostgreSQL", pg_url)))


if __name__ == "__main__":
    run()
