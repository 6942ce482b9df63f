"""A 1 GiB tus upload (and its download) over loopback: Chronicle beside @tus/server and the floor.

Three figures from one run, the same client, the same file and the same PATCH size:
- the floor, measured in-process: one Python loop over the same file that reads it, hashes
  it with SHA-256, seals it in 64 KiB AES-256-GCM segments and writes the result (then
  fsyncs) -- the least any encrypted, hashed upload must do;
- Chronicle: tus upload (encrypt, hash, store, save the offset), then download (decrypt,
  stream), with the server's peak resident memory growth (sampled every 20 ms from a fresh
  server, warm-up upload included);
- the reference tus server: @tus/server with @tus/file-store (Node.js, bench/tus-node/, its
  versions pinned by the committed package-lock.json and installed with `npm ci` into the
  gitignored bench/tus-node/node_modules on first use). It stores plaintext and hashes
  nothing, so it shows what HTTP and the disk alone cost on this machine.

Budgets (issue 16): uploads faster than @tus/server (> 1.0x) and at least 0.6x the floor;
downloads at least 0.6x the floor and faster than @tus/server serving the same file; RSS growth
under 64 MiB. Both servers run side by side and take turns, BENCH_REPEATS rounds (default 3,
the best of each counts), so a burst of load from elsewhere on a shared machine hits both.
Beside each rate, the CPU seconds the server spent on it (user + system, all its threads):
on a loaded machine that is the steadier figure.

The client is a few lines of HTTP/1.1 on one keep-alive socket that sends each PATCH body
with sendfile(2), so that on a 2-core machine the client takes as little CPU as possible
from the server it measures (an aiohttp client caps a bare uvicorn sink near 350 MB/s here).

Run: python -m bench.bench_tus_upload   (BENCH_EVIDENCE_MIB: file size, BENCH_CHUNK_MIB: PATCH)
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
from contextlib import ExitStack, contextmanager
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
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
FLOOR_BUDGET, PEER_BUDGET, RSS_BUDGET = 0.60, 1.00, 64 * MiB
TUS_NODE = Path(__file__).resolve().parent / "tus-node"


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
            deadline = time.monotonic() + 180
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


def install_tus_node() -> str | None:
    """`npm ci` bench/tus-node from its lock (once); None if it is ready, else why not."""
    if (TUS_NODE / "node_modules" / "@tus" / "server").is_dir():
        return None
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not installed"
    try:
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=TUS_NODE,
            capture_output=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        return "npm ci timed out"
    if installed.returncode != 0:
        return f"npm ci failed: {installed.stderr.decode(errors='replace')[-300:]}"
    return None


@contextmanager
def tus_node_server(files: Path) -> Iterator[tuple[str, int]]:
    """bench/tus-node/server.mjs on loopback, storing into `files`."""
    files.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/files"
    command = ["node", "server.mjs", str(port), str(files)]
    with process(command, env={}, url=url, cwd=TUS_NODE) as pid:
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Chronicle:
    """A Chronicle server with one account, for uploads and downloads."""

    def __init__(self, base: str, pid: int) -> None:
        self.base, self.pid = base, pid
        login = {"username": "bench-evidence", "password": PASSWORD}
        created = httpx.post(base + "/v1/accounts", json=login, timeout=30)
        login["username"] = created.json()["username"]  # the handle, with the suffix
        token = httpx.post(base + "/v1/auth/token", json=login, timeout=30)
        self.auth = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def upload(self, source: Path) -> str:
        """tus upload; the evidence's content URL."""
        url = tus_upload(self.base + "/v1/uploads", source, self.auth)
        return self.base + "/v1/evidence/" + url.rsplit("/", 1)[-1] + "/content"

    def check(self, content: str, sha256: str) -> None:
        record = httpx.get(content.removesuffix("/content"), headers=self.auth, timeout=30)
        assert record.json()["sha256"] == sha256
        digest = hashlib.sha256()  # and the bytes that come back, untimed
        download(content, self.auth, digest.update)
        assert digest.hexdigest() == sha256


class Peer:
    """@tus/server: uploads are PATCHed to it and read back with GET, as tus clients do."""

    def __init__(self, base: str, pid: int) -> None:
        self.base, self.pid = base, pid
        self.auth: dict[str, str] = {}

    def upload(self, source: Path) -> str:
        return tus_upload(self.base, source, {})

    def check(self, content: str, sha256: str) -> None:
        digest = hashlib.sha256()
        download(content, {}, digest.update)
        assert digest.hexdigest() == sha256


class Figures:
    """Best rates and least CPU over the rounds of one server, and its peak RSS growth."""

    def __init__(self, server: Chronicle | Peer, source: Path, sha256: str) -> None:
        self.server = server
        self.memory = PeakRss(server.pid).__enter__()
        self.content = server.upload(source)  # warm-up, checked
        server.check(self.content, sha256)
        self.rate = {"upload": 0.0, "download": 0.0}
        self.cpu = {"upload": float("inf"), "download": float("inf")}

    def measure(self, what: str, work: Callable[[], object]) -> None:
        cpu = cpu_seconds(self.server.pid)
        started = time.perf_counter()
        work()
        seconds = time.perf_counter() - started
        self.rate[what] = max(self.rate[what], SIZE / MiB / seconds)
        self.cpu[what] = min(self.cpu[what], cpu_seconds(self.server.pid) - cpu)

    def upload(self, source: Path) -> None:
        self.measure("upload", lambda: self.server.upload(source))

    def download(self) -> None:
        server, content = self.server, self.content
        self.measure("download", lambda: download(content, server.auth, lambda _: None))

    def done(self) -> None:
        self.memory.__exit__(None, None, None)

    def cpu_per_gib(self, what: str) -> float:
        return self.cpu[what] * 1024 * MiB / SIZE


def line(label: str, value: float, base: float, what: str, budget: float | None = None) -> str:
    ratio = value / base if base else float("nan")
    verdict = ""
    if budget is not None:
        ok = ratio > budget if what == "@tus/server" else ratio >= budget
        sign = ">" if what == "@tus/server" else ">="
        verdict = f"  (budget {sign} {budget:.2f}x)  {'ok' if ok else 'OVER BUDGET'}"
    return f"{label:<46} {value:7.1f} MB/s  {ratio:5.2f}x {what}{verdict}"


def memory_line(label: str, growth: float, budget: bool = True) -> str:
    verdict = ("  (budget < 64 MiB)  " + ("ok" if growth < RSS_BUDGET else "OVER BUDGET")) * budget
    return f"{label:<46} {growth / MiB:7.1f} MiB{verdict}"


def cpu_line(label: str, figures: Figures) -> str:
    up, down = figures.cpu_per_gib("upload"), figures.cpu_per_gib("download")
    return f"{label:<46} {up:7.2f} s/GiB upload, {down:5.2f} s/GiB download"


def measure() -> None:
    print(
        f"\n== tus upload: {SIZE // MiB} MiB in {CHUNK // MiB} MiB PATCHes, loopback, "
        f"best of {REPEATS} =="
    )
    skipped = install_tus_node()
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as servers:
        work = Path(scratch)
        source = work / "evidence.bin"
        sha256 = make_file(source)
        data = work / "chronicle"
        data.mkdir()
        ours = Figures(Chronicle(*servers.enter_context(chronicle_server(data))), source, sha256)
        theirs: Figures | None = None
        if skipped is None:
            peer = Peer(*servers.enter_context(tus_node_server(work / "tus-files")))
            theirs = Figures(peer, source, sha256)
        floor_up = floor_down = 0.0
        for _ in range(REPEATS):  # everything takes turns, so load from elsewhere hits all
            floor_up = max(floor_up, write_floor(source, work / "floor.sealed"))
            for figures in filter(None, (ours, theirs)):
                figures.upload(source)
                figures.download()
        floor_down = read_floor(source, work / "floor.sealed")
        for figures in filter(None, (ours, theirs)):
            figures.done()
        print(f"{'floor: read+SHA-256+AES-GCM+write+fsync':<46} {floor_up:7.1f} MB/s")
        print(f"{'(decrypt-only loop: read+AES-GCM open)':<46} {floor_down:7.1f} MB/s")
        up, down = ours.rate["upload"], ours.rate["download"]
        print(
            line("Chronicle tus upload (encrypt, hash, store)", up, floor_up, "floor", FLOOR_BUDGET)
        )
        print(line("Chronicle download (decrypt, stream)", down, floor_up, "floor", FLOOR_BUDGET))
        print(line("  the same beside the decrypt-only loop", down, floor_down, "decrypt loop"))
        print(memory_line("Chronicle server peak RSS growth", ours.memory.growth))
        print(cpu_line("Chronicle server CPU", ours))
        if theirs is None:
            print(f"(@tus/server peer skipped: {skipped})")
            return
        peer_up, peer_down = theirs.rate["upload"], theirs.rate["download"]
        print(line("peer: @tus/server + @tus/file-store upload", peer_up, floor_up, "floor"))
        print(line("peer: @tus/server download (GET)", peer_down, floor_up, "floor"))
        print(memory_line("peer server peak RSS growth", theirs.memory.growth, budget=False))
        print(cpu_line("peer server CPU", theirs))
        print(line("Chronicle upload beside @tus/server", up, peer_up, "@tus/server", PEER_BUDGET))
        print(
            line(
                "Chronicle download beside @tus/server", down, peer_down, "@tus/server", PEER_BUDGET
            )
        )


async def run() -> None:
    await asyncio.to_thread(measure)


if __name__ == "__main__":
    asyncio.run(run())
