"""`make load`: a bounded, realistic mix against several uvicorn workers on PostgreSQL.

Many victims log incidents (create, list, read, amend, sync, their own chronology), upload
evidence over tus (a photo in two PATCHes) and fetch it back, and now and then make a share link
that an officer opens; caseworkers read their clients' chronologies, diaries and evidence.
Everyone is built through the API as the tests build them (the service admin as the CLI makes
one; every staff account turns on TOTP). Loopback only, bounded in time (LOAD_SECONDS).

Two phases of LOAD_SECONDS each: saturated (every connection sends as soon as it is answered:
the throughput), then paced at half that rate on a fixed schedule (the latency a sustainable
load sees). Reported per operation and phase: count, throughput, p50/p95/p99 and errors.
Afterwards every victim's
chain is verified (GET /v1/diary/integrity) and every acknowledged create and amendment is
checked against what the diary lists, and every acknowledged upload against the evidence list
(its SHA-256). Exits non-zero on any error or verification failure.

Run: python -m bench.load   (LOAD_SECONDS, LOAD_WORKERS, LOAD_VICTIMS, LOAD_CLIENTS,
LOAD_CASEWORKERS, LOAD_PG_URL)
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import ROOT, call, free_port

SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
WORKERS = int(os.environ.get("LOAD_WORKERS", str(max(2, os.cpu_count() or 2))))
VICTIMS = int(os.environ.get("LOAD_VICTIMS", "40"))
VICTIM_CLIENTS = int(os.environ.get("LOAD_CLIENTS", "32"))
CASEWORKERS = int(os.environ.get("LOAD_CASEWORKERS", "4"))
PG_URL = os.environ.get("LOAD_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct horse battery staple"

# (operation, weight) for a victim's phone; caseworkers have their own loop.
VICTIM_MIX = [
    ("incident_create", 50),
    ("incidents_list", 15),
    ("incident_get", 12),
    ("incident_amend", 8),
    ("sync", 8),
    ("chronology", 4),
    ("evidence_upload", 5),
    ("evidence_get", 2),
    ("share_create", 2),
    ("share_view", 1),
]
BEHAVIOURS = ["loitering", "following", "contacting", "turning_up_at_home", "damage_to_property"]


@dataclass
class Victim:
    auth: dict[str, str]
    subject: str
    created: dict[str, int] = field(default_factory=dict)  # incident id -> acknowledged revision
    etags: dict[str, str] = field(default_factory=dict)
    sync_cursor: str | None = None
    evidence: dict[str, str] = field(default_factory=dict)  # evidence id -> acknowledged SHA-256


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def record(self, name: str, started: float, ok: bool, detail: str = "") -> None:
        self.latencies[name].append(time.perf_counter() - started)
        if not ok:
            self.errors[name].append(detail)


@contextmanager
def postgres_database() -> Iterator[str]:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"chronicle_load_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def chronicle_workers(database_url: str, data: Path) -> Iterator[str]:
    """Migrate (a separate step, as in production), make the key ring, start N workers."""
    env = {
        **os.environ,
        "DATA_DIR": str(data),
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
        "REGISTRATIONS_PER_ADDRESS_PER_HOUR": "100000",  # every victim registers from loopback
    }
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env,
                   check=True, capture_output=True)  # fmt: skip
    # One process generates the development key ring before N workers would race to.
    _app(database_url, data).state.ctx.engine.dispose()
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS),
               "--no-access-log", "--no-proxy-headers", "--log-level", "warning"]  # fmt: skip
    with (data / "server.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _app(database_url: str, data: Path) -> Any:
    from app.main import create_app
    from app.settings import Settings

    return create_app(Settings(data_dir=data, database_url=database_url, log_level="WARNING"))


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not start")


def make_admin(database_url: str, data: Path) -> str:
    """The service admin, created the way `python -m app.cli create-admin` does."""
    from app.accounts.schemas import RegisterIn
    from app.accounts.service import register
    from app.security.client import ClientFacts

    app = _app(database_url, data)
    ctx = app.state.ctx
    with ctx.sessionmaker.begin() as session:
        body = RegisterIn(username=f"admin-{uuid.uuid4().hex[:8]}", password=PASSWORD)
        handle = register(ctx, session, body, ClientFacts("cli", "cli"), role="admin").username
    ctx.engine.dispose()
    return handle


async def expect(
    session: aiohttp.ClientSession, method: str, path: str, status: int, **kwargs: Any
) -> Any:
    got, body = await call(session, method, path, **kwargs)
    if got != status:
        raise RuntimeError(f"{method} {path}: {got} {body}")
    return body


async def login(session: aiohttp.ClientSession, username: str, **extra: str) -> dict[str, str]:
    body = {"username": username, "password": PASSWORD, **extra}
    token = await expect(session, "POST", "/v1/auth/token", 200, json=body)
    return {"Authorization": f"Bearer {token['access_token']}"}


async def with_totp(session: aiohttp.ClientSession, auth: dict[str, str]) -> None:
    secret = (await expect(session, "POST", "/v1/me/totp", 200, headers=auth))["secret"]
    code = {"code": pyotp.TOTP(secret).now()}
    await expect(session, "POST", "/v1/me/totp/confirm", 204, headers=auth, json=code)


async def build_people(
    session: aiohttp.ClientSession, admin_name: str
) -> tuple[list[Victim], list[tuple[dict[str, str], list[str]]]]:
    """Victims (each with a subject), caseworkers (each with the grants of some victims)."""
    admin = await login(session, admin_name)
    await with_totp(session, admin)
    org = await expect(session, "POST", "/v1/organisations", 201, headers=admin,
                       json={"name": "Safe Haven", "kind": "support_service"})  # fmt: skip

    async def staff(inviter: dict[str, str], role: str) -> dict[str, str]:
        invite = await expect(session, "POST", f"/v1/organisations/{org['id']}/invitations",
                              201, headers=inviter, json={"role": role})  # fmt: skip
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        body = {"code": invite["code"], "username": username, "password": PASSWORD,
                "display_name": "Sam Okafor"}  # fmt: skip
        created = await expect(session, "POST", "/v1/invitations/accept", 201, json=body)
        auth = await login(session, created["username"])
        await with_totp(session, auth)
        return auth

    org_admin = await staff(admin, "org_admin")
    caseworkers = [await staff(org_admin, "caseworker") for _ in range(CASEWORKERS)]
    gate = asyncio.Semaphore(4)

    async def victim(n: int) -> Victim:
        username = f"victim-{n}-{uuid.uuid4().hex[:6]}"
        async with gate:
            body = {"username": username, "password": PASSWORD}
            created = await expect(session, "POST", "/v1/accounts", 201, json=body)
            auth = await login(session, created["username"])
        subject = await expect(session, "POST", "/v1/subjects", 201, headers=auth,
                               json={"name": "Mark", "relationship": "ex_partner"})  # fmt: skip
        return Victim(auth=auth, subject=subject["id"])

    victims = list(await asyncio.gather(*(victim(n) for n in range(VICTIMS))))
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    granted: list[tuple[dict[str, str], list[str]]] = []
    for index, caseworker in enumerate(caseworkers):
        # Each caseworker supports a few of the victims.
        for v in victims[index::CASEWORKERS][:5]:
            code = await expect(session, "POST", "/v1/caseworker/link-codes", 201,
                                headers=caseworker, json={})  # fmt: skip
            body = {"link_code": code["code"], "scope": "diary", "expires_at": expires}
            await expect(session, "POST", "/v1/grants", 201, headers=v.auth, json=body)
        clients = await expect(session, "GET", "/v1/clients", 200, headers=caseworker)
        granted.append((caseworker, [c["id"] for c in clients["items"]]))
    return victims, granted


def _photo_head() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), "grey").save(out, "JPEG")
    return out.getvalue()


PHOTO_HEAD = _photo_head()
PHOTO_BYTES = 256 * 1024


async def upload_photo(
    session: aiohttp.ClientSession, victim: Victim, rng: random.Random
) -> tuple[int, str | None]:
    """A phone's tus upload of a 256 KiB photo in two PATCHes: (last status, evidence id)."""
    data = PHOTO_HEAD + rng.randbytes(PHOTO_BYTES - len(PHOTO_HEAD))
    tus = {**victim.auth, "Tus-Resumable": "1.0.0"}
    create = {**tus, "Upload-Length": str(len(data))}
    async with session.post("/v1/uploads", headers=create) as r:
        await r.read()
        if r.status != 201:
            return r.status, None
        location = r.headers["Location"]
    half = len(data) // 2
    for offset, part in ((0, data[:half]), (half, data[half:])):
        headers = {**tus, "Upload-Offset": str(offset),
                   "Content-Type": "application/offset+octet-stream"}  # fmt: skip
        async with session.patch(location, headers=headers, data=part) as r:
            await r.read()
            if r.status != 204:
                return r.status, None
    evidence_id = location.rsplit("/", 1)[-1]
    victim.evidence[evidence_id] = hashlib.sha256(data).hexdigest()
    return 204, evidence_id


def incident(victim: Victim, rng: random.Random) -> dict[str, Any]:
    when = datetime.now(UTC) - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1440))
    return {
        "occurred_at": when.isoformat(),
        "behaviours": rng.sample(BEHAVIOURS, rng.randint(1, 2)),
        "subject_ids": [victim.subject],
        "description": "He was outside the flat again and followed me to the bus stop. " * 3,
        "location": "Elm Road",
        "impact": {"alarm_or_distress": True, "fear_of_violence": rng.random() < 0.3},
    }


async def victim_step(
    session: aiohttp.ClientSession,
    victim: Victim,
    rng: random.Random,
    stats: Stats,
    shares: list[str],
    scheduled: float | None = None,
) -> None:
    op = rng.choices([name for name, _ in VICTIM_MIX], [w for _, w in VICTIM_MIX])[0]
    ids = list(victim.created)
    if op in ("incident_get", "incident_amend") and not ids:
        op = "incident_create"
    if op == "share_view" and not shares:
        op = "share_create"
    if op == "evidence_get" and not victim.evidence:
        op = "evidence_upload"
    started = scheduled or time.perf_counter()
    headers = victim.auth
    if op == "incident_create":
        async with session.post("/v1/incidents", json=incident(victim, rng), headers=headers) as r:
            body = await r.json(content_type=None)
            status = r.status
            ok = status == 201
            if ok:
                victim.created[body["id"]] = 1
                victim.etags[body["id"]] = r.headers["ETag"]
    elif op == "incidents_list":
        status, _ = await call(session, "GET", "/v1/incidents?limit=50", headers=headers)
        ok = status == 200
    elif op == "incident_get":
        status, _ = await call(session, "GET", f"/v1/incidents/{rng.choice(ids)}", headers=headers)
        ok = status == 200
    elif op == "incident_amend":
        target = rng.choice(ids)
        patch = {"description": f"Amended: it was later than I first wrote ({rng.random():.3f})."}
        etag = {"If-Match": victim.etags[target], **headers}
        async with session.patch(f"/v1/incidents/{target}", json=patch, headers=etag) as r:
            body = await r.json(content_type=None)
            status = r.status
            ok = status == 200
            if ok:
                victim.created[target] = body["revision"]
                victim.etags[target] = r.headers["ETag"]
    elif op == "sync":
        path = "/v1/sync" + (f"?cursor={victim.sync_cursor}" if victim.sync_cursor else "")
        status, body = await call(session, "GET", path, headers=headers)
        ok = status == 200
        if ok:
            victim.sync_cursor = body.get("next_cursor") or victim.sync_cursor
    elif op == "chronology":
        status, _ = await call(session, "GET", "/v1/chronology", headers=headers)
        ok = status == 200
    elif op == "evidence_upload":
        status, _ = await upload_photo(session, victim, rng)
        ok = status == 204
    elif op == "evidence_get":
        evidence_id, digest = rng.choice(list(victim.evidence.items()))
        async with session.get(f"/v1/evidence/{evidence_id}/content", headers=headers) as r:
            content = await r.read()
            status = r.status
            ok = status == 200 and hashlib.sha256(content).hexdigest() == digest
    elif op == "share_create":
        expires = (datetime.now(UTC) + timedelta(days=14)).isoformat()
        body = {"recipient_name": "PC Jane Smith", "force": "Kent Police", "expires_at": expires}
        status, out = await call(session, "POST", "/v1/shares", headers=headers, json=body)
        ok = status == 201
        if ok:
            shares.append(out["url"].split("/s/", 1)[1])
    else:  # share_view: an officer opens a link (HTML)
        async with session.get(f"/s/{rng.choice(shares)}") as r:
            await r.read()
            status = r.status
            ok = status == 200
    stats.record(op, started, ok, f"{op}: {status}")


async def caseworker_step(
    session: aiohttp.ClientSession,
    auth: dict[str, str],
    clients: list[str],
    rng: random.Random,
    stats: Stats,
    scheduled: float | None = None,
) -> None:
    client = rng.choice(clients)
    op, path = rng.choice(
        [
            ("cw_clients_list", "/v1/clients"),
            ("cw_chronology", f"/v1/clients/{client}/chronology"),
            ("cw_incidents", f"/v1/clients/{client}/incidents?limit=50"),
            ("cw_evidence", f"/v1/clients/{client}/evidence?limit=50"),
        ]
    )
    started = scheduled or time.perf_counter()
    status, _ = await call(session, "GET", path, headers=auth)
    stats.record(op, started, status == 200, f"{op}: {status}")


async def run_mix(
    base: str,
    victims: list[Victim],
    caseworkers: list[tuple[dict[str, str], list[str]]],
    stats: Stats,
    rate: float | None = None,
) -> float:
    """Run the mix for SECONDS; the elapsed time.

    Without `rate` every connection sends its next request as soon as the last is answered
    (saturation: the throughput figure). With `rate` (requests/s in all) each connection sends
    on a fixed schedule and latency is timed from the scheduled moment, so a slow answer
    counts the queueing it causes (no coordinated omission): the latency figure.
    """
    clients = VICTIM_CLIENTS + len(caseworkers)
    interval = clients / rate if rate else 0.0
    connector = aiohttp.TCPConnector(limit=VICTIM_CLIENTS + len(caseworkers) + 4)
    timeout = aiohttp.ClientTimeout(total=60)
    shares: list[str] = []
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:
        begin = time.perf_counter()
        stop = begin + SECONDS

        async def turns(index: int) -> Any:
            """None each turn when saturating; else each turn's scheduled moment, after it."""
            moment = begin + interval * index / clients
            while time.perf_counter() < stop:
                if not rate:
                    yield None
                    continue
                await asyncio.sleep(max(0.0, moment - time.perf_counter()))
                yield moment
                moment += interval

        async def phone(index: int) -> None:
            # A victim is on one connection at a time, as with one phone: amendments then
            # carry the ETag of her own last write, as the app's would.
            rng = random.Random(index)
            mine = victims[index::VICTIM_CLIENTS]
            async for moment in turns(index):
                await victim_step(session, rng.choice(mine), rng, stats, shares, moment)

        async def desk(index: int) -> None:
            rng = random.Random(1000 + index)
            auth, mine = caseworkers[index]
            async for moment in turns(VICTIM_CLIENTS + index):
                await caseworker_step(session, auth, mine, rng, stats, moment)

        await asyncio.gather(
            *(phone(i) for i in range(VICTIM_CLIENTS)),
            *(desk(i) for i in range(len(caseworkers))),
        )
        return time.perf_counter() - begin


async def every_item(
    session: aiohttp.ClientSession, path: str, auth: dict[str, str], problems: list[str]
) -> list[dict[str, Any]]:
    """Every item of a cursor-paged list."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        status, page = await call(
            session, "GET", f"{path}?limit=200" + (f"&cursor={cursor}" if cursor else ""),
            headers=auth,
        )  # fmt: skip
        if status != 200:
            problems.append(f"{path}: {status}")
            return items
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def verify(base: str, victims: list[Victim]) -> list[str]:
    """Every chain verifies; every acknowledged create, amendment and upload is stored."""
    problems: list[str] = []
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=120)) as session:
        for n, victim in enumerate(victims):
            status, report = await call(session, "GET", "/v1/diary/integrity", headers=victim.auth)
            if status != 200 or not report["ok"]:
                problems.append(f"victim {n}: chain check {status} {report}")
            incidents = await every_item(session, "/v1/incidents", victim.auth, problems)
            stored = {item["id"]: item["revision"] for item in incidents}
            for incident_id, revision in victim.created.items():
                if stored.get(incident_id, 0) < revision:
                    problems.append(f"victim {n}: acknowledged {incident_id} r{revision} missing")
            evidence = await every_item(session, "/v1/evidence", victim.auth, problems)
            files = {item["id"]: item["sha256"] for item in evidence}
            for evidence_id, digest in victim.evidence.items():
                if files.get(evidence_id) != digest:
                    problems.append(f"victim {n}: acknowledged upload {evidence_id} missing")
    return problems


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


def report(stats: Stats, elapsed: float) -> None:
    print(f"{'operation':<18} {'count':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'errors':>7}")  # fmt: skip
    total = 0
    for name in sorted(stats.latencies):
        values = stats.latencies[name]
        total += len(values)
        print(
            f"{name:<18} {len(values):>7} {len(values) / elapsed:>8.1f} "
            f"{percentile(values, 50):>8.1f} {percentile(values, 95):>8.1f} "
            f"{percentile(values, 99):>8.1f} {len(stats.errors.get(name, [])):>7}"
        )
    print(f"{'all':<18} {total:>7} {total / elapsed:>8.1f}")


async def main() -> int:
    print(f"load: {SECONDS:.0f} s, {WORKERS} workers on PostgreSQL, {VICTIMS} victims on "
          f"{VICTIM_CLIENTS} connections, {CASEWORKERS} caseworkers")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, postgres_database() as database_url:
        data = Path(tmp)
        with chronicle_workers(database_url, data) as base:
            admin = make_admin(database_url, data)
            async with aiohttp.ClientSession(base) as session:
                victims, caseworkers = await build_people(session, admin)
            saturated = Stats()
            elapsed = await run_mix(base, victims, caseworkers, saturated)
            print(f"\n-- saturated: {VICTIM_CLIENTS + len(caseworkers)} connections, each "
                  "sending as soon as it is answered (throughput) --")  # fmt: skip
            report(saturated, elapsed)
            rate = sum(len(v) for v in saturated.latencies.values()) / elapsed / 2
            paced = Stats()
            elapsed = await run_mix(base, victims, caseworkers, paced, rate=rate)
            print(f"\n-- paced at half that rate ({rate:.0f} req/s), latency from each "
                  "request's scheduled moment --")  # fmt: skip
            report(paced, elapsed)
            problems = await verify(base, victims)
        errors = [e for stats in (saturated, paced) for errs in stats.errors.values() for e in errs]
        acknowledged = sum(len(v.created) for v in victims)
        uploads = sum(len(v.evidence) for v in victims)
        print(f"chains verified: {len(victims) - len({p.split(':')[0] for p in problems})}"
              f"/{len(victims)}; acknowledged incidents checked: {acknowledged}; "
              f"acknowledged uploads checked: {uploads}")  # fmt: skip
        for line in errors[:10] + problems[:10]:
            print("  " + line)
        return 1 if errors or problems else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
