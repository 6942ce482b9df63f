"""Evidence fixtures: the app on a local blob folder, or on S3 (moto's server on loopback).

Tests run on the local store unless they ask for both with
`@pytest.mark.parametrize("blob_backend", ["local", "s3"], indirect=True)`. The S3 settings
are also put in the environment, so a live server started by the test uses the same bucket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.blobs import LocalBlobStore, S3BlobStore
from app.settings import Settings
from tests.blobs.backends import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, MotoS3


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoS3]:
    server = MotoS3()
    yield server
    server.stop()


@pytest.fixture
def blob_backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "local"))


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    blob_backend: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    blob_store = "local"
    if blob_backend == "s3":
        moto: MotoS3 = request.getfixturevalue("moto_server")
        blob_store = f"s3://{moto.new_bucket()}/chronicle"
        for name, value in {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL_S3": moto.url,
            "BLOB_STORE": blob_store,
        }.items():
            monkeypatch.setenv(name, value)
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        log_level="INFO",
        blob_store=blob_store,
        registrations_per_address_per_hour=1000,  # as tests/conftest.py:settings
    )


def stored_blobs(app: FastAPI) -> dict[str, bytes]:
    """Every byte the blob store holds, by file or object name."""
    store = app.state.ctx.blobs
    if isinstance(store, LocalBlobStore):
        root = store.root
        if not root.exists():
            return {}
        return {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file()
        }
    assert isinstance(store, S3BlobStore)
    pages = store.client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket)
    names = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return {
        name: store.client.get_object(Bucket=store.bucket, Key=name)["Body"].read()
        for name in names
    }


def uploads_in_progress(app: FastAPI) -> list[str]:
    """S3 multipart uploads still open (invisible to `stored_blobs`); none locally."""
    store = app.state.ctx.blobs
    if not isinstance(store, S3BlobStore):
        return []
    listing = store.client.list_multipart_uploads(Bucket=store.bucket)
    return [upload["Key"] for upload in listing.get("Uploads", [])]


def flip_byte(app: FastAPI, blob_key: str, position: int) -> None:
    """Change one stored byte of a complete blob, as an attacker with the store could."""
    store = app.state.ctx.blobs
    if isinstance(store, LocalBlobStore):
        path = store.root / blob_key
        data = bytearray(path.read_bytes())
        data[position] ^= 0x01
        path.write_bytes(bytes(data))
        return
    assert isinstance(store, S3BlobStore)
    name = f"chronicle/{blob_key}"
    data = bytearray(store.client.get_object(Bucket=store.bucket, Key=name)["Body"].read())
    data[position] ^= 0x01
    store.client.put_object(Bucket=store.bucket, Key=name, Body=bytes(data))
