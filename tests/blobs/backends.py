"""Real blob-store backends for tests: a folder, and moto's S3 server on a loopback port.

Each backend can suffer a real outage on demand: the local one a full disk (RLIMIT_FSIZE set
to 0, so every write fails with EFBIG), the S3 one a pulled network cable (its traffic runs
through a loopback TCP forwarder that drops every connection while the outage lasts).
"""

from __future__ import annotations

import logging
import resource
import select
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer
from mypy_boto3_s3 import S3Client

from app.blobs import BlobStore, LocalBlobStore, S3BlobStore

ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
REGION = "us-east-1"


@dataclass
class Backend:
    name: str
    store: BlobStore
    stored_objects: Callable[[], dict[str, bytes]]
    """Every byte the backend holds, by file or object name: what an attacker could read."""
    outage: Callable[[], AbstractContextManager[None]]


class MotoS3:
    """moto's standalone S3 server in a thread, on a free loopback port."""

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        self.url = f"http://{self.host}:{self.port}"

    def client(self, endpoint_url: str | None = None, *, attempts: int = 3) -> S3Client:
        config = Config(
            retries={"mode": "standard", "max_attempts": attempts},
            connect_timeout=2,
            read_timeout=20,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3={"addressing_style": "path"},
        )
        return boto3.client(
            "s3",
            endpoint_url=endpoint_url or self.url,
            config=config,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=REGION,
        )

    def new_bucket(self) -> str:
        name = f"evidence-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self._server.stop()


class Plug:
    """A loopback TCP forwarder to a server, which a test can pull out and put back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.connected = threading.Event()
        self.connected.set()
        self._closed = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    @contextmanager
    def outage(self) -> Iterator[None]:
        self.connected.clear()
        try:
            yield
        finally:
            self.connected.set()

    def close(self) -> None:
        self._closed = True
        self.connected.clear()

    def _accept(self) -> None:
        with self._listener:
            while not self._closed:
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                if self.connected.is_set():
                    threading.Thread(target=self._pump, args=(conn,), daemon=True).start()
                else:
                    conn.close()

    def _pump(self, conn: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            conn.close()
            return
        with conn, upstream:
            peers = {conn: upstream, upstream: conn}
            while self.connected.is_set():
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                for sock in readable:
                    try:
                        data = sock.recv(1 << 16)
                        if not data:
                            return
                        peers[sock].sendall(data)
                    except OSError:
                        return


@contextmanager
def full_disk() -> Iterator[None]:
    """Every file write in this process fails with EFBIG until the block ends."""
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def local_backend(root: Path) -> Backend:
    def stored_objects() -> dict[str, bytes]:
        return {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file()
        }

    return Backend("local", LocalBlobStore(root), stored_objects, full_disk)


def s3_backend(moto: MotoS3, plug: Plug) -> Backend:
    bucket = moto.new_bucket()
    direct = moto.client()
    store = S3BlobStore(moto.client(f"http://127.0.0.1:{plug.port}", attempts=1), bucket, "ev")

    def stored_objects() -> dict[str, bytes]:
        names = [
            item["Key"]
            for page in direct.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])
        ]
        return {name: direct.get_object(Bucket=bucket, Key=name)["Body"].read() for name in names}

    return Backend("s3", store, stored_objects, plug.outage)


def uploads_in_progress(backend: Backend) -> list[str]:
    """Multipart uploads S3 still holds (their parts cannot be read back); none locally."""
    if not isinstance(backend.store, S3BlobStore):
        return []
    client, bucket = backend.store.client, backend.store.bucket
    return [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
