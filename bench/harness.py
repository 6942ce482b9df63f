"""Shared benchmark plumbing: start servers on loopback, drive them, report percentiles.

Every figure is printed beside a baseline measured in the same run, because these machines are
noisy: the ratio is the number to compare between runs, not the absolute throughput.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(
    app: str, *, env: dict[str, str] | None = None, factory: bool = True, workers: int = 1
) -> Iterator[str]:
    """Run uvicorn (one worker unless told, no access log) for `app`; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
               "--no-access-log", "--no-proxy-headers", "--log-level", "warning"]  # fmt: skip
    if factory:
        command.append("--factory")
    if workers > 1:
        command += ["--workers", str(workers)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, process, log)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=15)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: object) -> None:
    deadline = time.monotonic() + 180  # a loaded machine imports slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            httpx.get(url + "/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not start")


@contextmanager
def chronicle(
    database_url: str | None = None, *, settings: dict[str, str] | None = None, workers: int = 1
) -> Iterator[str]:
    """The real app on a fresh data dir, migrated first (SQLite unless a URL is given);
    `settings` are more environment variables for it."""
    with tempfile.TemporaryDirectory() as data:
        env = {"DATA_DIR": data, "ENVIRONMENT": "development", "LOG_LEVEL": "WARNING"}
        # Benchmarks register hundreds of accounts from one loopback address.
        env["REGISTRATIONS_PER_ADDRESS_PER_HOUR"] = "100000"
        env.update(settings or {})
        if database_url:
            env["DATABASE_URL"] = database_url
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        if workers > 1:  # the key ring and signing keys exist before the workers start
            subprocess.run(
                [sys.executable, "-c", "from app.main import create_app; create_app()"],
                cwd=ROOT,
                env={**os.environ, **env},
                check=True,
                capture_output=True,
            )
        with server("app.main:create_app", env=env, workers=workers) as url:
            yield url


@dataclass
class Result:
    name: str
    count: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<38} {self.throughput:8.1f} req/s  p50 {self.percentile(50):6.1f} ms  "
            f"p99 {self.percentile(99):6.1f} ms  errors {self.errors}"
        )


Worker = Callable[[aiohttp.ClientSession, int], Awaitable[bool]]


async def drive(
    name: str, base_url: str, worker: Worker, *, clients: int, seconds: float
) -> Result:
    """Run `clients` concurrent loops of `worker` for `seconds`; every call is timed.

    aiohttp drives the load: httpx's async pool collapses past a few concurrent connections
    (about 130 req/s at 64 here), so it would measure itself rather than the server.
    """
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:
        stop = time.perf_counter() + seconds

        async def loop(index: int) -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                started = time.perf_counter()
                ok = await worker(session, index)
                latencies.append(time.perf_counter() - started)
                errors += 0 if ok else 1

        started = time.perf_counter()
        await asyncio.gather(*(loop(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return Result(name, len(latencies), errors, elapsed, latencies)


async def call(
    session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, Any]:
    """One request; returns (status, parsed JSON body or None)."""
    async with session.request(method, path, **kwargs) as response:
        body = await response.read()
        is_json = response.content_type.endswith("json")
        return response.status, (json.loads(body) if is_json and body else None)


def ratio_line(label: str, value: float, baseline: float, budget: str) -> str:
    ratio = value / baseline if baseline else float("nan")
    return f"{label:<38} {ratio:6.2f}x of baseline  (budget: {budget})"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
