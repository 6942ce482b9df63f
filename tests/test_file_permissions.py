"""The data folder, SQLite database (and its -wal/-shm), key ring, signing keys and blob store
are owner-only (issue 12), whatever the umask: real files, on a fresh DATA_DIR."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import migrate, new_user
from tests.evidence.support import multipart


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    # The usual default: without explicit modes every file would be readable by all users.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("loose_umask")
def test_the_database_key_files_and_blobs_are_created_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    url = f"sqlite:///{data / 'chronicle.db'}"
    migrate(url)
    application = create_app(Settings(environment="test", data_dir=data, database_url=url))
    try:
        with TestClient(application, raise_server_exceptions=False) as client:
            victim = new_user(client)
            stored = multipart(client, victim.auth, b"\xff\xd8\xff" + os.urandom(4096))
            assert stored.status_code == 201, stored.text
            database = data / "chronicle.db"
            # While connections are open, WAL mode keeps the -wal and -shm files beside it.
            journal = [data / "chronicle.db-wal", data / "chronicle.db-shm"]
            assert all(path.exists() for path in journal)
            files = [database, *journal, data / "keyring.json", data / "signing.json"]
            blobs = data / "blobs"
            blob_files = [path for path in blobs.rglob("*") if path.is_file()]
            folders = [data, tmp_path / "fresh", *(p for p in blobs.rglob("*") if p.is_dir())]
            assert blob_files, "the upload left no blob file"
            for path in [*files, *blob_files]:
                assert _mode(path) == 0o600, (path, oct(_mode(path)))
            for path in [*folders, blobs]:
                assert _mode(path) == 0o700, (path, oct(_mode(path)))
    finally:
        application.state.ctx.engine.dispose()


@pytest.mark.usefixtures("loose_umask")
def test_an_existing_world_readable_data_folder_and_database_are_tightened(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # noqa: S103 -- the loose mode the app must tighten
    url = f"sqlite:///{data / 'chronicle.db'}"
    migrate(url)
    os.chmod(data / "chronicle.db", 0o644)
    application = create_app(Settings(environment="test", data_dir=data, database_url=url))
    application.state.ctx.engine.dispose()
    assert _mode(data) == 0o700
    assert _mode(data / "chronicle.db") == 0o600
