"""Every blob-store test runs against both backends: a local folder and moto's S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.blobs.backends import Backend, MotoS3, Plug, local_backend, s3_backend


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3()
    yield server
    server.stop()


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield local_backend(tmp_path / "blobs")
        return
    moto: MotoS3 = request.getfixturevalue("moto_s3")
    plug = Plug((moto.host, moto.port))
    yield s3_backend(moto, plug)
    plug.close()
