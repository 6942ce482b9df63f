"""One world for the whole fuzz run, copied afresh for every operation.

Building the world takes a dozen argon2 hashes (registrations, logins, two-factor), so it is
built once, and each test gets a copy of its database and of its key ring: the same people,
tokens and diary, none of the changes an earlier operation's examples made.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.main import create_app
from app.settings import Settings
from tests.conftest import PG_URL, _pg_admin_url
from tests.fuzz.world import CURRENT, World, build_world


def _copy_database(source: str, folder: Path) -> tuple[str, str]:
    """(url, name): a copy of a SQLite file or of a PostgreSQL database used as a template."""
    if not PG_URL:
        path = folder / "chronicle.db"
        shutil.copyfile(source, path)
        return f"sqlite:///{path}", str(path)
    name = f"chronicle_fz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False), name


def _drop_database(name: str) -> None:
    if not PG_URL:
        return
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=data_dir,
        database_url=url,
        log_level="INFO",
        registrations_per_address_per_hour=1000,  # fuzzing registers from one address
    )


@pytest.fixture(scope="session")
def world_template(
    template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, str, Path]]:
    """The world, built once: (world, its database to copy, its data dir with the key ring)."""
    folder = tmp_path_factory.mktemp("fuzz-world")
    url, name = _copy_database(template_db, folder)
    app = create_app(_settings(url, folder / "data"))
    with TestClient(app, raise_server_exceptions=False) as client:
        world = build_world(app, client)
    app.state.ctx.engine.dispose()
    yield world, name, folder / "data"
    _drop_database(name)


@contextmanager
def _copy_of(world_template: tuple[World, str, Path], folder: Path) -> Iterator[World]:
    template, database, data_dir = world_template
    url, name = _copy_database(database, folder)
    shutil.copytree(data_dir, folder / "data")
    app = create_app(_settings(url, folder / "data"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield replace(template, app=app, client=client, calls=0)
    app.state.ctx.engine.dispose()
    _drop_database(name)


@contextmanager
def _serving(world: World) -> Iterator[World]:
    CURRENT.target = world.app
    try:
        yield world
    finally:
        CURRENT.target = None


@pytest.fixture
def world(world_template: tuple[World, str, Path], tmp_path: Path) -> Iterator[World]:
    """A copy of its own: for the thorough runs, where examples change and delete things."""
    with _copy_of(world_template, tmp_path) as copy, _serving(copy):
        yield copy


@pytest.fixture(scope="session")
def _shared_copy(
    world_template: tuple[World, str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with _copy_of(world_template, tmp_path_factory.mktemp("fuzz-shared")) as copy:
        yield copy


@pytest.fixture
def shared_world(_shared_copy: World) -> Iterator[World]:
    """One copy for all the light runs (callers an operation is not for, and nobody), which
    cannot harm it: they are refused, or change only what is theirs."""
    with _serving(_shared_copy):
        yield _shared_copy
