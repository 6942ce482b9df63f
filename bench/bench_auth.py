"""Token refresh and an authenticated GET at 64 clients beside a bare FastAPI endpoint, and
the p99 of other requests while 16 logins (argon2id) are in flight.

Run: python -m bench.bench_auth   (or `make bench`; BENCH_SECONDS shortens each phase)
"""

from __future__ import annotations

import asyncio
import os

import aiohttp

from bench.harness import Result, call, chronicle, drive, ratio_line, server

CLIENTS = 64
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
PASSWORD = "correct horse battery staple"
LOGIN = {"username": "bench-user", "password": PASSWORD}


async def _sessions(url: str, count: int) -> list[dict[str, str]]:
    async with aiohttp.ClientSession(url) as session:
        _, created = await call(session, "POST", "/v1/accounts", json=LOGIN)
        LOGIN["username"] = created["username"]  # the handle, with the server's suffix
        sem = asyncio.Semaphore(4)

        async def login() -> dict[str, str]:
            async with sem:
                _, body = await call(session, "POST", "/v1/auth/token", json=LOGIN)
                return dict(body)

        return await asyncio.gather(*(login() for _ in range(count)))


async def run() -> None:
    async def bare_get(session: aiohttp.ClientSession, _: int) -> bool:
        return (await call(session, "GET", "/bare"))[0] == 200

    with server("bench.bare_app:app", factory=False) as bare_url:
        bare = await drive(
            "bare FastAPI GET (baseline)", bare_url, bare_get, clients=CLIENTS, seconds=SECONDS
        )
    with chronicle() as url:
        tokens = await _sessions(url, CLIENTS)
        auth = [{"Authorization": f"Bearer {t['access_token']}"} for t in tokens]
        refresh_tokens = [t["refresh_token"] for t in tokens]

        async def get_me(session: aiohttp.ClientSession, i: int) -> bool:
            return (await call(session, "GET", "/v1/me", headers=auth[i]))[0] == 200

        async def refresh(session: aiohttp.ClientSession, i: int) -> bool:
            status, body = await call(
                session, "POST", "/v1/auth/refresh", json={"refresh_token": refresh_tokens[i]}
            )
            if status != 200:
                return False
            refresh_tokens[i] = body["refresh_token"]
            return True

        me = await drive(
            "GET /v1/me (authenticated)", url, get_me, clients=CLIENTS, seconds=SECONDS
        )
        rotated = await drive(
            "POST /v1/auth/refresh", url, refresh, clients=CLIENTS, seconds=SECONDS
        )
        storm, others = await _login_storm(url, auth)

    print(f"\n== auth: {CLIENTS} clients, {SECONDS:.0f} s per phase, SQLite, one worker ==")
    for result in (bare, me, rotated, storm, others):
        print(result.line())
    print(ratio_line("GET /v1/me throughput", me.throughput, bare.throughput, "report"))
    print(ratio_line("refresh throughput", rotated.throughput, bare.throughput, "report"))
    print(
        f"{'p99 of other requests, 16 logins':<38} {others.percentile(99):6.1f} ms"
        "  (budget: < 100 ms)"
    )


async def _login_storm(url: str, auth: list[dict[str, str]]) -> tuple[Result, Result]:
    async def login(session: aiohttp.ClientSession, _: int) -> bool:
        return (await call(session, "POST", "/v1/auth/token", json=LOGIN))[0] == 200

    async def get_me(session: aiohttp.ClientSession, i: int) -> bool:
        status, _ = await call(session, "GET", "/v1/me", headers=auth[i % len(auth)])
        await asyncio.sleep(0.01)  # a steady trickle of ordinary requests, not a second storm
        return status == 200

    storm, others = await asyncio.gather(
        drive("16 concurrent logins", url, login, clients=16, seconds=SECONDS),
        drive("GET /v1/me during the logins", url, get_me, clients=8, seconds=SECONDS),
    )
    return storm, others


if __name__ == "__main__":
    asyncio.run(run())
