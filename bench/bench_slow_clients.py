"""Other accounts' requests while 200 slow upload bodies are open, beside the same requests
with none open (the baseline, same run, same server).

Each slow body is a tus PATCH that promised 1 MB and sends a byte a second: the attack that
used to hold one of the 16 transfer threads per body and take evidence offline for everyone.
The bodies come from five accounts, each allowed 40 transfers and open uploads here
(MAX_TRANSFERS_PER_ACCOUNT, MAX_OPEN_UPLOADS; the defaults of 4 and 20 would refuse most of
them, which is the other half of the defence). Budget: another account's small download and
incident create keep p99 under 100 ms.

Run: python -m bench.bench_slow_clients   (BENCH_SECONDS shortens each phase)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from urllib.parse import urlsplit

import aiohttp

from bench.harness import Result, call, chronicle, drive, ratio_line

SLOW_BODIES = 200
SLOW_ACCOUNTS = 5
CLIENTS = 4
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
PASSWORD = "correct horse battery staple"
TUS = {"Tus-Resumable": "1.0.0"}
PHOTO = base64.b64decode(  # a 1x1 JPEG: the smallest file the evidence store accepts
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////"
    "////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAB"
    "PxA="
)


async def _account(session: aiohttp.ClientSession, name: str) -> dict[str, str]:
    _, body = await call(
        session, "POST", "/v1/accounts", json={"username": name, "password": PASSWORD}
    )
    username = (body or {}).get("username", name)  # a server-assigned handle, if it gives one
    _, token = await call(
        session, "POST", "/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {token['access_token']}"}


async def _slow_body(url: str, auth: dict[str, str], location: str, stop: asyncio.Event) -> None:
    parts = urlsplit(url)
    _, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        (
            f"PATCH {location} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: {auth['Authorization']}\r\nTus-Resumable: 1.0.0\r\n"
            "Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
            "Content-Length: 1000000\r\n\r\n"
        ).encode()
    )
    try:
        while not stop.is_set():
            writer.write(b"x")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)
    except ConnectionError:
        pass
    finally:
        writer.close()


async def run() -> None:
    limits = {"MAX_TRANSFERS_PER_ACCOUNT": "40", "MAX_OPEN_UPLOADS": "40"}
    with chronicle(settings=limits) as url:
        async with aiohttp.ClientSession(url) as session:
            victim = await _account(session, "bench-other")
            form = aiohttp.FormData()
            form.add_field("file", PHOTO, filename="p.jpg", content_type="image/jpeg")
            _, evidence = await call(session, "POST", "/v1/evidence", headers=victim, data=form)
            attackers = [await _account(session, f"bench-slow-{n}") for n in range(SLOW_ACCOUNTS)]
            locations = []
            for n in range(SLOW_BODIES):
                auth = attackers[n % SLOW_ACCOUNTS]
                headers = {**auth, **TUS, "Upload-Length": "1000000"}
                async with session.post("/v1/uploads", headers=headers) as response:
                    locations.append((auth, response.headers["Location"]))

        async def other_account(session: aiohttp.ClientSession, i: int) -> bool:
            if i % 2:
                path = f"/v1/evidence/{evidence['id']}/content"
                return (await call(session, "GET", path, headers=victim))[0] == 200
            body = {"occurred_at": "2024-03-01T20:05:00Z", "behaviours": ["loitering"]}
            return (await call(session, "POST", "/v1/incidents", headers=victim, json=body))[
                0
            ] == 201

        quiet = await drive(
            "download + create, no slow bodies", url, other_account, clients=CLIENTS,
            seconds=SECONDS,
        )  # fmt: skip
        stop = asyncio.Event()
        slow = [asyncio.create_task(_slow_body(url, a, loc, stop)) for a, loc in locations]
        await asyncio.sleep(2)  # every slow body is open and trickling
        busy = await drive(
            f"download + create, {SLOW_BODIES} slow bodies", url, other_account,
            clients=CLIENTS, seconds=SECONDS,
        )  # fmt: skip
        stop.set()
        await asyncio.gather(*slow)

    print(f"\n== slow clients: {SLOW_BODIES} bodies at 1 byte/s, SQLite, one worker ==")
    for result in (quiet, busy):
        print(result.line())
    _p99_line(busy, quiet)


def _p99_line(busy: Result, quiet: Result) -> None:
    print(
        ratio_line(
            f"p99 with {SLOW_BODIES} slow bodies", busy.percentile(99), quiet.percentile(99),
            "report",
        )
    )  # fmt: skip
    print(
        f"{'p99 with slow bodies, absolute':<38} {busy.percentile(99):6.1f} ms  (budget: < 100 ms)"
    )


if __name__ == "__main__":
    asyncio.run(run())
