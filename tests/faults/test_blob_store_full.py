"""A full disk under the blob store: the upload fails cleanly, and resumes once there is room.

The server runs in its own mount namespace (`unshare`, no privileges needed) with a 3 MiB
tmpfs mounted over its blob folder, so the disk really fills (ENOSPC) while the database,
outside that folder, keeps working. Nothing is mocked.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.settings import Settings
from tests.conftest import start_server, stop_server
from tests.evidence import support as s
from tests.faults.support import integrity, sign_up

MiB = 1024 * 1024


def tiny_disk(folder: Path, size: str) -> list[str]:
    """A command prefix: run under a tmpfs of `size` mounted over `folder`."""
    mount = 'mount -t tmpfs -o size="$1" tmpfs "$0" && shift 2 && exec "$@"'
    return [
        "unshare", "--user", "--map-root-user", "--mount",
        "sh", "-c", mount, str(folder), size, "--",
    ]  # fmt: skip


@pytest.fixture
def blob_folder(settings: Settings) -> Path:
    if shutil.which("unshare") is None:
        pytest.fail("util-linux's unshare is needed for the full-disk test")
    folder = settings.data_dir / "blobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_full_blob_store_fails_the_upload_cleanly_and_it_resumes_when_room_is_made(
    settings: Settings, app: FastAPI, tmp_path: Path, blob_folder: Path
) -> None:
    server = start_server(settings, tmp_path / "server.log", wrap=tiny_disk(blob_folder, "3m"))
    try:
        victim = sign_up(server.url)
        with httpx.Client(base_url=server.url, timeout=60) as http:
            first = s.big_jpeg(2 * MiB)
            first_id = s.upload(http, victim.auth, first)

            second = s.big_jpeg(2 * MiB)
            location = s.create_upload(http, victim.auth, len(second))
            failed = s.patch(http, victim.auth, location, 0, second)
            assert failed.status_code == 503, failed.text
            assert failed.headers["content-type"] == "application/problem+json"
            assert failed.headers["Retry-After"] == "5"
            assert "Traceback" not in failed.text

            # Nothing half-written became evidence, and the chain holds only the first file.
            listed = http.get("/v1/evidence", headers=victim.auth).json()["items"]
            assert [item["id"] for item in listed] == [first_id]
            assert integrity(server.url, victim)["length"] == 1
            offset = int(s.head(http, victim.auth, location).headers["Upload-Offset"])
            assert offset < len(second)
            assert http.get(f"/v1/evidence/{first_id}/content", headers=victim.auth).content == (
                first
            )

            # Room is made by deleting the first file; the upload resumes where it stood.
            deleted = http.delete(
                f"/v1/evidence/{first_id}", headers={**victim.auth, "If-Match": "*"}
            )
            assert deleted.status_code == 204, deleted.text
            resumed = s.patch(http, victim.auth, location, offset, second[offset:])
            assert resumed.status_code == 204, resumed.text
            second_id = location.rsplit("/", 1)[-1]
            record = http.get(f"/v1/evidence/{second_id}", headers=victim.auth).json()
            assert record["sha256"] == s.sha256(second)
            content = http.get(f"/v1/evidence/{second_id}/content", headers=victim.auth)
            assert content.content == second
            report = integrity(server.url, victim)
            assert (report["ok"], report["length"]) == (True, 3)
    finally:
        stop_server(server)
