"""POST /v1/incidents beside a bare FastAPI endpoint and a plain CRUD app, in one run.

Three servers, one uvicorn worker each, 64 concurrent connections, 64 accounts (requests
rotate through their tokens), on SQLite (WAL, synchronous=FULL) and on PostgreSQL:
- bare: bench/bare_app.py, GET /bare (no database);
- CRUD: bench/crud_app.py, "create an item for the current user" (token lookup, one INSERT,
  one COMMIT per request; the same stack, no encryption, no chain, no batching);
- Chronicle: POST /v1/incidents (validation, AES-GCM of the content, commitment, chain
  append, group commit).
wrk (Debian's package) drives the saturated runs when it is installed, else aiohttp; then
Chronicle is driven open loop at half its saturated rate and its p99 is timed from each
request's scheduled moment. Budgets: >= 3x CRUD, >= 0.4x bare, p99 < 50 ms at half rate.

Run: python -m bench.bench_vs_crud   (BENCH_SECONDS per phase, BENCH_PG_URL,
BENCH_BACKENDS=sqlite,postgresql: which databases; BENCH_WORKERS: the worker count of the
scaling phase, default WEB_CONCURRENCY or the CPU count, 1 to skip it)
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

from bench.bench_incidents import INCIDENT, _accounts, _postgres_database, drive_at_rate
from bench.harness import Result, call, chronicle, drive, ratio_line, server

CLIENTS = 64
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
BACKENDS = {
    name.strip().lower()
    for name in os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
    if name.strip()
}
WORKERS = int(
    os.environ.get("BENCH_WORKERS", os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() or 2)))
)
ITEM = {"title": "An item", "description": INCIDENT["description"]}

_WRK_SCRIPT = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local body = [==[%(body)s]==]
local n = 0
request = function()
  n = n %% #tokens + 1
  return wrk.format("%(method)s", "%(path)s",
    {["Authorization"] = "Bearer " .. tokens[n], ["Content-Type"] = "application/json"},
    body)
end
"""


def _wrk(base: str, method: str, path: str, tokens: list[str], body: object) -> tuple[float, int]:
    """(requests per second, non-2xx responses) from wrk at CLIENTS connections."""
    with tempfile.TemporaryDirectory() as scratch:
        token_file = Path(scratch) / "tokens"
        token_file.write_text("\n".join(tokens or ["none"]) + "\n")
        script = Path(scratch) / "rotate.lua"
        script.write_text(
            _WRK_SCRIPT
            % {
                "tokens": token_file,
                "body": json.dumps(body) if body is not None else "",
                "method": method,
                "path": path,
            }
        )
        out = subprocess.run(
            ["wrk", "-t2", f"-c{CLIENTS}", f"-d{SECONDS:.0f}s", "-s", str(script), base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*timeout (\d+)", out)
    assert rate, out
    failures = (int(bad.group(1)) if bad else 0) + (int(errors.group(1)) if errors else 0)
    return float(rate.group(1)), failures


def _server_cpu_seconds() -> float:
    """CPU time (user + system) of the uvicorn servers this process started, with their
    workers (Linux /proc).

    Printed per request beside the rate: on a shared machine the rate depends on how much of
    the CPU the scheduler gives each server (a thread pool of 40 runnable threads gets more
    than an event loop and one batch thread), while the CPU a request costs does not.
    """
    parents: dict[str, str] = {}
    seconds: dict[str, float] = {}
    servers: set[str] = set()
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        pid = stat.parent.name
        parents[pid] = fields[1]
        seconds[pid] = (int(fields[11]) + int(fields[12])) / tick
        if fields[1] == str(os.getpid()) and b"uvicorn" in command:
            servers.add(pid)

    def served_by_one(pid: str) -> bool:
        while pid in parents and pid not in servers:
            pid = parents[pid]
        return pid in servers

    return sum(cpu for pid, cpu in seconds.items() if served_by_one(pid))


async def _saturate(
    name: str, base: str, method: str, path: str, tokens: list[str], body: object
) -> tuple[float, int]:
    cpu_before, started = _server_cpu_seconds(), time.perf_counter()
    if shutil.which("wrk"):
        rate, errors = await asyncio.to_thread(_wrk, base, method, path, tokens, body)
    else:

        async def one(session: aiohttp.ClientSession, i: int) -> bool:
            headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"} if tokens else {}
            status, _ = await call(session, method, path, json=body, headers=headers)
            return status < 300

        result = await drive(name, base, one, clients=CLIENTS, seconds=SECONDS)
        rate, errors = result.throughput, result.errors
    served = rate * (time.perf_counter() - started)
    cpu_ms = (_server_cpu_seconds() - cpu_before) * 1000 / served if served else float("nan")
    print(f"{name:<44} {rate:8.1f} req/s  server CPU {cpu_ms:5.2f} ms/request  errors {errors}")
    return rate, errors


@contextmanager
def _crud(database_url: str | None) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as data:
        url = database_url or f"sqlite:///{Path(data) / 'crud.db'}"
        with server("bench.crud_app:app", env={"CRUD_DATABASE_URL": url}, factory=False) as base:
            yield base


async def _seed_crud(base: str) -> list[str]:
    async with aiohttp.ClientSession(base) as session:
        status, tokens = await call(session, "POST", "/seed", params={"count": CLIENTS})
        assert status == 200, tokens
        return list(tokens)


async def _backend(
    name: str, database_url: str | None, crud_database: str | None, bare: float
) -> float:
    """The saturated and the half-rate runs on one database; returns the saturated rate."""
    print(f"\n== create on {name}: {CLIENTS} connections, {CLIENTS} accounts, one worker ==")
    with _crud(crud_database) as crud_url:
        tokens = await _seed_crud(crud_url)
        crud, _ = await _saturate("CRUD app POST /items", crud_url, "POST", "/items", tokens, ITEM)
    with chronicle(database_url) as base:
        auth = await _accounts(base, CLIENTS)
        tokens = [h["Authorization"].removeprefix("Bearer ") for h in auth]
        created, _ = await _saturate(
            "Chronicle POST /v1/incidents", base, "POST", "/v1/incidents", tokens, INCIDENT
        )

        async def create(session: aiohttp.ClientSession, i: int) -> bool:
            status, _ = await call(session, "POST", "/v1/incidents", json=INCIDENT, headers=auth[i])
            return status == 201

        paced: Result = await drive_at_rate(
            "Chronicle at half that rate, open loop",
            base,
            create,
            clients=CLIENTS,
            rate=created / 2,
            seconds=SECONDS,
        )
    print(paced.line())
    print(ratio_line("Chronicle / CRUD app", created, crud, ">= 3x"))
    print(ratio_line("Chronicle / bare endpoint", created, bare, ">= 0.4x"))
    print(
        f"{'p99 at half the saturated rate':<38} {paced.percentile(99):6.1f} ms  (budget: < 50 ms)"
    )
    return created


async def run() -> None:
    print(f"\n== load generator: {'wrk' if shutil.which('wrk') else 'aiohttp'} ==")
    with server("bench.bare_app:app", factory=False) as bare_url:
        bare, _ = await _saturate(
            "bare FastAPI GET /bare (baseline)", bare_url, "GET", "/bare", [], None
        )
    if "sqlite" in BACKENDS:
        one = await _backend("SQLite", None, None, bare)
        if WORKERS > 1:
            with tempfile.TemporaryDirectory() as data:
                await _workers("SQLite", f"sqlite:///{Path(data) / 'w.db'}", one)
    if "postgresql" in BACKENDS:
        with _postgres_database() as pg_url, _postgres_database() as crud_pg_url:
            if pg_url is not None and crud_pg_url is not None:
                one = await _backend("PostgreSQL", pg_url, crud_pg_url, bare)
                if WORKERS > 1:
                    await _workers("PostgreSQL", pg_url, one)


async def _saturate_chronicle(name: str, database_url: str, workers: int) -> float:
    with chronicle(database_url, workers=workers) as base:
        auth = await _accounts(base, CLIENTS)
        tokens = [h["Authorization"].removeprefix("Bearer ") for h in auth]
        label = f"Chronicle on {name}, {workers} worker{'s' if workers > 1 else ''}"
        rate, _ = await _saturate(label, base, "POST", "/v1/incidents", tokens, INCIDENT)
    return rate


async def _workers(name: str, database_url: str, one: float) -> None:
    """The scaling docs/deploy.md quotes: the same run with BENCH_WORKERS workers."""
    several = await _saturate_chronicle(name, database_url, WORKERS)
    print(ratio_line(f"{WORKERS} workers / 1 on {name}", several, one, "> 1x to default to it"))


if __name__ == "__main__":
    asyncio.run(run())
