"""Shared fixtures: a fresh, really-migrated database per test, on SQLite or PostgreSQL.

The suite runs once per backend: without TEST_DATABASE_URL on SQLite files, with it on the
PostgreSQL server it names. Alembic migrates a template database once per run; each test gets
a copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL), so no test sees
another's rows and no test depends on cleaning up after itself.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import make_engine
from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PASSWORD = "correct horse battery staple"


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    engine = make_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    engine.dispose()


def _pg_admin_url() -> str:
    return make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated template: a SQLite file path or a PostgreSQL database name."""
    if not PG_URL:
        path = tmp_path_factory.mktemp("template") / "template.db"
        migrate(f"sqlite:///{path}")
        yield str(path)
        return
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except Exception as exc:  # pragma: no cover - the point is to fail loudly in CI
        pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}", 2)
    name = f"chronicle_tpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    migrate(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    if not PG_URL:
        path = tmp_path / "chronicle.db"
        shutil.copyfile(template_db, path)
        yield f"sqlite:///{path}"
        return
    name = f"chronicle_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        log_level="INFO",
        # Tests register many accounts from one address; the limit itself is tested with its
        # own low setting (tests/test_registration_enumeration.py).
        registrations_per_address_per_hour=1000,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.ctx.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class User:
    username: str
    password: str
    access: str
    refresh: str
    session_id: str
    device_token: str | None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def register(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Register under the chosen name; returns the full handle (name + suffix) login needs."""
    response = client.post("/v1/accounts", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    return str(response.json()["username"])


def login(client: TestClient, username: str, password: str = PASSWORD, **extra: str) -> User:
    response = client.post(
        "/v1/auth/token", json={"username": username, "password": password, **extra}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return User(
        username=username,
        password=password,
        access=body["access_token"],
        refresh=body["refresh_token"],
        session_id=body["session_id"],
        device_token=body.get("device_token"),
    )


def new_user(client: TestClient, username: str | None = None) -> User:
    handle = register(client, username or f"user-{uuid.uuid4().hex[:8]}")
    return login(client, handle)


@pytest.fixture
def alice(client: TestClient) -> User:
    return new_user(client, "alice-diary")


@pytest.fixture
def bob(client: TestClient) -> User:
    return new_user(client, "bob-diary")


@dataclass
class LiveServer:
    url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    settings: Settings,
    log_path: Path,
    *,
    workers: int = 1,
    wrap: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> LiveServer:
    """A real uvicorn process on a loopback port, sharing the test's database and key ring.

    `wrap` is a command prefix the server runs under (tests/faults: a tiny disk for its blobs);
    `env` sets more of its settings (e.g. BODY_IDLE_SECONDS).
    """
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.effective_database_url,
        "DATA_DIR": str(settings.data_dir),
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "INFO",
        "REGISTRATIONS_PER_ADDRESS_PER_HOUR": "1000",  # as the settings fixture
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TRUST_FORWARDED_FOR": str(settings.trust_forwarded_for).lower(),
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log",
        # TRUST_FORWARDED_FOR is the only switch for X-Forwarded-*: uvicorn must not apply them.
        "--no-proxy-headers",
    ]  # fmt: skip
    command = [*wrap, *command]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return LiveServer(url=url, log_path=log_path, process=process)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start:\n" + log_path.read_text(errors="replace"))


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def live_server(settings: Settings, app: FastAPI, tmp_path: Path) -> Iterator[LiveServer]:
    # `app` is created first so the key ring exists before the server process starts.
    server = start_server(settings, tmp_path / "server.log")
    yield server
    stop_server(server)


def stored_bytes(app: FastAPI) -> bytes:
    """Every byte the database keeps on disk for this test's database.

    SQLite: the database file and its WAL. PostgreSQL (same machine, as in CI): after a
    CHECKPOINT, the heap, TOAST and index files of every table of the test database.
    """
    engine = app.state.ctx.engine
    if engine.url.drivername.startswith("sqlite"):
        engine.dispose()
        path = Path(str(engine.url.database))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    chunks = []
    with engine.connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")
        data_dir = conn.exec_driver_sql("SHOW data_directory").scalar_one()
        files = (
            conn.exec_driver_sql(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i')"
            )
            .scalars()
            .all()
        )
    for relative in files:
        for path in Path(data_dir).glob(str(relative) + "*"):
            chunks.append(path.read_bytes())
    assert chunks, "found no table files to scan"
    return b"".join(chunks)
