"""Login storm: the p99 of another account's ordinary requests (GET and POST /v1/incidents)
with 16 and with 32 logins (argon2id) in flight, each beside a baseline with no logins
measured just before it in the same run (the ratio is the figure).

Why it holds: login, registration and every other password route are plain `def` routes, so
FastAPI runs them in its thread pool, never on the event loop; at most
PASSWORD_HASH_CONCURRENCY hashes run at once (app.crypto.passwords) and the rest wait in
`password_slot`, so a storm queues logins instead of starving the loop or the other requests.

Run: python -m bench.bench_login_storm   (or `make bench`; BENCH_SECONDS shortens each phase)
"""

from __future__ import annotations

import asyncio
import os

import aiohttp

from bench.harness import Result, call, chronicle, drive, ratio_line

SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
OTHER_CLIENTS = 4  # a steady trickle of ordinary requests, not a second storm
PASSWORD = "correct horse battery staple"
INCIDENT = {
    "occurred_at": "2024-03-01T20:05:00Z",
    "behaviours": ["loitering"],
    "channel": "in_person",
    "description": "He waited outside the flat again.",
}


async def _account(url: str, name: str) -> tuple[str, dict[str, str]]:
    """Register `name`; its handle and an Authorization header."""
    async with aiohttp.ClientSession(url) as session:
        body = {"username": name, "password": PASSWORD}
        status, created = await call(session, "POST", "/v1/accounts", json=body)
        if status != 201:
            raise RuntimeError(f"registration failed: {status} {created}")
        login = {"username": created["username"], "password": PASSWORD}
        _, token = await call(session, "POST", "/v1/auth/token", json=login)
        return created["username"], {"Authorization": f"Bearer {token['access_token']}"}


async def _phase(
    url: str, label: str, logins: int, handle: str, auth: dict[str, str]
) -> tuple[Result, Result | None]:
    async def other(session: aiohttp.ClientSession, i: int) -> bool:
        if i % 2:
            status, _ = await call(session, "POST", "/v1/incidents", headers=auth, json=INCIDENT)
            ok = status == 201
        else:
            status, _ = await call(session, "GET", "/v1/incidents?limit=20", headers=auth)
            ok = status == 200
        await asyncio.sleep(0.02)
        return ok

    async def login(session: aiohttp.ClientSession, _: int) -> bool:
        body = {"username": handle, "password": PASSWORD}
        return (await call(session, "POST", "/v1/auth/token", json=body))[0] == 200

    others = drive(label, url, other, clients=OTHER_CLIENTS, seconds=SECONDS)
    if not logins:
        return await others, None
    storm = drive(f"{logins} logins in flight", url, login, clients=logins, seconds=SECONDS)
    measured, logged_in = await asyncio.gather(others, storm)
    return measured, logged_in


async def run() -> None:
    with chronicle() as url:
        stormer, _ = await _account(url, "storm-target")
        _, auth = await _account(url, "bystander")
        rows: list[tuple[int, Result, Result, Result]] = []
        for logins in (16, 32):
            # Each storm beside its own baseline, measured just before it on the same server.
            baseline, _ = await _phase(url, f"others, no logins (before {logins})", 0, "", auth)
            during, storm = await _phase(
                url, f"others during {logins} logins", logins, stormer, auth
            )
            assert storm is not None
            rows.append((logins, baseline, during, storm))

    print(f"\n== login storm: {OTHER_CLIENTS} other clients, {SECONDS:.0f} s per phase, SQLite ==")
    for _, baseline, during, storm in rows:
        print(baseline.line())
        print(during.line())
        print(storm.line())
    for logins, baseline, during, _ in rows:
        print(
            ratio_line(
                f"p99 of others, {logins} logins",
                during.percentile(99),
                baseline.percentile(99),
                "report",
            )
            + f"  ({during.percentile(99):.1f} ms vs {baseline.percentile(99):.1f} ms)"
        )


if __name__ == "__main__":
    asyncio.run(run())
