"""Evidence upload (tus) and download of a 1 GiB file over loopback, beside the floor.

The floor, measured in the same run: one Python loop over the same file that reads it, hashes
it with SHA-256, seals it in 64 KiB AES-256-GCM segments and writes the result (then fsyncs)
-- the least any encrypted, hashed upload must do. Downloads are held to the same floor (as
DESIGN.md says); beside it, for information, a loop that only reads a sealed file back and
opens each segment, which no HTTP server can approach (it sends nothing anywhere). The
service does more (HTTP, database round trips per PATCH, sniffing, a chain event), so the
budget is a ratio: uploads and downloads at least 40% of the floor, with the server's
resident memory growing by less than 64 MiB (sampled every 20 ms from a fresh server,
warm-up upload included).

The client is a few lines of HTTP/1.1 on one keep-alive socket that sends each PATCH body
with sendfile(2), so that on a 2-core machine the client takes as little CPU as possible
from the server it measures (an aiohttp client caps a bare uvicorn sink near 350 MB/s here).

The peer figure: the same upload into the reference tus server, @tus/server with
@tus/file-store (Node.js), installed with npm into a temporary folder. It stores plaintext and
hashes nothing, so it shows what HTTP and the disk alone cost on this machine.

Run: python -m bench.bench_evidence   (BENCH_EVIDENCE_MIB: file size, BENCH_CHUNK_MIB: PATCH)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import httpx

from bench.harness import ROOT, free_port

MiB = 1024 * 1024
SIZE = int(os.environ.get("BENCH_EVIDENCE_MIB", "1024")) * MiB
CHUNK = int(os.environ.get("BENCH_CHUNK_MIB", "32")) * MiB
SEGMENT = 64 * 1024
PASSWORD = "correct horse battery staple"
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
UPLOAD_BUDGET, DOWNLOAD_BUDGET, RSS_BUDGET = 0.40, 0.40, 64 * MiB

TUS_NODE_SERVER = """
import http from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';
const [port, directory] = process.argv.slice(2);
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) });
http.createServer((req, res) => tus.handle(req, res)).listen(Number(port), '127.0.0.1');
"""


class Connection:
    """HTTP/1.1 on one keep-alive socket: just enough for tus and a streamed download."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        assert parts.hostname and parts.port
        self.host = f"{parts.hostname}:{parts.port}"
        self.sock = socket.create_connection((parts.hostname, parts.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""

    def close(self) -> None:
        self.sock.close()

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: tuple[BinaryIO, int, int] | None = None,
        sink: Callable[[bytes], object] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body); `body` is (file, offset, count) sent with sendfile."""
        path = urlsplit(url).path or "/"
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {body[2] if body else 0}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        if body is not None:
            stream, offset, count = body
            sent = 0
            while sent < count:
                sent += self.sock.sendfile(stream, offset + sent, count - sent)
        return self._response(method, sink)

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            self.pending += data
        head, _, self.pending = self.pending.partition(marker)
        return head

    def _read_exactly(self, count: int, sink: Callable[[bytes], object]) -> None:
        take = self.pending[:count]
        self.pending = self.pending[count:]
        sink(take)
        count -= len(take)
        buffer = bytearray(MiB)
        view = memoryview(buffer)
        while count:
            got = self.sock.recv_into(view, min(count, MiB))
            if not got:
                raise ConnectionError("the body ended early")
            sink(view[:got])
            count -= got

    def _response(
        self, method: str, sink: Callable[[bytes], object] | None
    ) -> tuple[int, dict[str, str], bytes]:
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        kept = bytearray()
        out = sink or kept.extend
        if method == "HEAD" or status in (204, 304):
            return status, headers, b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int(self._read_until(b"\r\n").split(b";")[0], 16):
                self._read_exactly(size, out)
                self._read_until(b"\r\n")
            self._read_until(b"\r\n")
        else:
            self._read_exactly(int(headers.get("content-length", "0")), out)
        return status, headers, bytes(kept)


def rss(pid: int) -> int:
    """Resident bytes of a process (psutil if installed, else /proc)."""
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    """Samples a process's RSS every 20 ms; `growth` is the peak above the first sample."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.baseline = rss(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss(self.pid))

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def make_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for n in range(SIZE // MiB):
            block = os.urandom(MiB)
            if n == 0:  # a video, as far as the allow-list can tell
                block = MP4_HEAD + block[len(MP4_HEAD) :]
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def write_floor(source: Path, target: Path) -> float:
    """MB/s of read + SHA-256 + AES-GCM (64 KiB segments) + write + fsync, in one loop."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    prefix = os.urandom(7)
    digest = hashlib.sha256()
    started = time.perf_counter()
    with source.open("rb", buffering=0) as inp, target.open("wb", buffering=0) as out:
        index = 0
        while block := inp.read(MiB):
            digest.update(block)
            view = memoryview(block)
            sealed = [
                aead.encrypt(prefix + (index + n).to_bytes(5, "big"), view[at : at + SEGMENT], None)
                for n, at in enumerate(range(0, len(view), SEGMENT))
            ]
            index += len(sealed)
            out.write(b"".join(sealed))
        os.fsync(out.fileno())
    return SIZE / MiB / (time.perf_counter() - started)


def read_floor(source: Path, sealed_path: Path) -> float:
    """MB/s of read + AES-GCM open (64 KiB segments), in one loop: what a download must do."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    prefix = os.urandom(7)
    with source.open("rb") as inp, sealed_path.open("wb") as out:
        index = 0
        while segment := inp.read(SEGMENT):
            out.write(aead.encrypt(prefix + index.to_bytes(5, "big"), segment, None))
            index += 1
    started = time.perf_counter()
    with sealed_path.open("rb", buffering=0) as inp:
        index = 0
        while segment := inp.read(SEGMENT + 16):
            aead.decrypt(prefix + index.to_bytes(5, "big"), segment, None)
            index += 1
    return SIZE / MiB / (time.perf_counter() - started)


@contextmanager
def process(command: list[str], *, env: dict[str, str], url: str, cwd: Path) -> Iterator[int]:
    """Run a server until it answers `url`; yields its pid."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.options(url, timeout=2)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(
                            f"server did not start: {log.read()[-2000:]!r}"
                        ) from None
                    time.sleep(0.2)
            yield proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextmanager
def chronicle_server(data: Path) -> Iterator[tuple[str, int]]:
    env = {"DATA_DIR": str(data), "ENVIRONMENT": "development", "LOG_LEVEL": "WARNING"}
    env["DATABASE_URL"] = f"sqlite:///{data / 'chronicle.db'}"
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
               "--log-level", "warning"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with process(command, env=env, url=url + "/healthz", cwd=ROOT) as pid:
        yield url, pid


@contextmanager
def tus_node_server(work: Path) -> Iterator[tuple[str, int] | None]:
    """@tus/server + @tus/file-store from npm, or None if npm cannot install them."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        yield None
        return
    installed = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "@tus/server", "@tus/file-store"],
        cwd=work,
        capture_output=True,
        timeout=600,
    )
    if installed.returncode != 0:
        yield None
        return
    (work / "server.mjs").write_text(TUS_NODE_SERVER)
    (work / "files").mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/files"
    command = ["node", "server.mjs", str(port), str(work / "files")]
    with process(command, env={}, url=url, cwd=work) as pid:
        yield url, pid


def tus_upload(create_url: str, source: Path, headers: dict[str, str]) -> str:
    """Create an upload and PATCH the file in CHUNK-sized requests; returns its URL."""
    tus = {**headers, "Tus-Resumable": "1.0.0"}
    connection = Connection(create_url)
    try:
        status, answer, text = connection.request(
            "POST", create_url, {**tus, "Upload-Length": str(SIZE)}
        )
        assert status == 201, text
        url = urljoin(create_url, answer["location"])
        offset = 0
        with source.open("rb") as stream:
            while offset < SIZE:
                patch = {**tus, "Upload-Offset": str(offset)}
                patch["Content-Type"] = "application/offset+octet-stream"
                count = min(CHUNK, SIZE - offset)
                status, answer, text = connection.request(
                    "PATCH", url, patch, (stream, offset, count)
                )
                assert status == 204, text
                offset = int(answer["upload-offset"])
    finally:
        connection.close()
    return url


def download(url: str, headers: dict[str, str], sink: Callable[[bytes], object]) -> None:
    connection = Connection(url)
    try:
        status, _, _ = connection.request("GET", url, headers, sink=sink)
        assert status == 200, status
    finally:
        connection.close()


def chronicle_figures(base: str, pid: int, source: Path, sha256: str) -> dict[str, float]:
    login = {"username": "bench-evidence", "password": PASSWORD}
    created = httpx.post(base + "/v1/accounts", json=login, timeout=30)
    login["username"] = created.json()["username"]  # the handle, with the suffix
    token = httpx.post(base + "/v1/auth/token", json=login, timeout=30).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    with PeakRss(pid) as upload_memory:
        tus_upload(base + "/v1/uploads", source, auth)  # warm-up, then timed
        started = time.perf_counter()
        url = tus_upload(base + "/v1/uploads", source, auth)
        upload_seconds = time.perf_counter() - started
    evidence = base + "/v1/evidence/" + url.rsplit("/", 1)[-1]
    assert httpx.get(evidence, headers=auth, timeout=30).json()["sha256"] == sha256
    with PeakRss(pid) as download_memory:
        started = time.perf_counter()
        download(evidence + "/content", auth, lambda block: None)
        download_seconds = time.perf_counter() - started
    digest = hashlib.sha256()  # and once more, untimed, to check what came back
    download(evidence + "/content", auth, digest.update)
    assert digest.hexdigest() == sha256
    return {
        "upload": SIZE / MiB / upload_seconds,
        "download": SIZE / MiB / download_seconds,
        "upload_rss": upload_memory.growth,
        "download_rss": download_memory.growth,
    }


def peer_figures(url: str, pid: int, source: Path) -> dict[str, float]:
    with PeakRss(pid) as memory:
        tus_upload(url, source, {})  # warm-up, then timed
        started = time.perf_counter()
        tus_upload(url, source, {})
        seconds = time.perf_counter() - started
    return {"upload": SIZE / MiB / seconds, "upload_rss": memory.growth}


def line(label: str, value: float, floor: float, budget: float | None = None) -> str:
    ratio = value / floor if floor else float("nan")
    verdict = "" if budget is None else ("  ok" if ratio >= budget else "  OVER BUDGET")
    limit = "" if budget is None else f"  (budget >= {budget:.0%})"
    return f"{label:<46} {value:7.1f} MB/s  {ratio:6.1%} of floor{limit}{verdict}"


def memory_line(label: str, growth: float) -> str:
    verdict = "ok" if growth < RSS_BUDGET else "OVER BUDGET"
    return f"{label:<46} {growth / MiB:7.1f} MiB  (budget < 64 MiB)  {verdict}"


def measure() -> None:
    print(f"\n== Evidence: {SIZE // MiB} MiB over tus in {CHUNK // MiB} MiB PATCHes, loopback ==")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        source = work / "evidence.bin"
        sha256 = make_file(source)
        floor_up = write_floor(source, work / "floor.sealed")
        floor_down = read_floor(source, work / "floor.sealed")
        (work / "floor.sealed").unlink()
        print(f"{'floor: read+SHA-256+AES-GCM+write+fsync':<46} {floor_up:7.1f} MB/s")
        print(f"{'(decrypt-only loop: read+AES-GCM open)':<46} {floor_down:7.1f} MB/s")
        data = work / "chronicle"
        data.mkdir()
        with chronicle_server(data) as (base, pid):
            ours = chronicle_figures(base, pid, source, sha256)
        up, down = ours["upload"], ours["download"]
        print(line("Chronicle tus upload (encrypt, hash, store)", up, floor_up, UPLOAD_BUDGET))
        print(line("Chronicle download (decrypt, stream)", down, floor_up, DOWNLOAD_BUDGET))
        print(line("  the same beside the decrypt-only loop", down, floor_down))
        print(memory_line("Chronicle server RSS growth, uploads", ours["upload_rss"]))
        print(memory_line("Chronicle server RSS growth, download", ours["download_rss"]))
        shutil.rmtree(data)
        node = work / "tus-node"
        node.mkdir()
        with tus_node_server(node) as peer:
            if peer is None:
                print("(@tus/server peer skipped: node/npm or the npm registry unavailable)")
                return
            theirs = peer_figures(peer[0], peer[1], source)
        print(line("peer: @tus/server + @tus/file-store (plain)", theirs["upload"], floor_up))
        print(f"{'Chronicle upload / peer upload':<46} {up / theirs['upload']:7.2f}x")
        print(memory_line("peer server RSS growth, uploads", theirs["upload_rss"]))


async def run() -> None:
    await asyncio.to_thread(measure)


if __name__ == "__main__":
    asyncio.run(run())
