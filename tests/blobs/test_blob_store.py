"""The blob store contract, on a local folder and on S3 alike: resumable appends, ranged reads,
durability of saved states, clean failure, deletion and listing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from app.blobs import (
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    LocalBlobStore,
    S3BlobStore,
    UploadState,
    open_blob_store,
)
from app.blobs.s3 import PART_SIZE
from tests.blobs.backends import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    Backend,
    MotoS3,
    uploads_in_progress,
)

MiB = 1024 * 1024


def saved(state: UploadState) -> UploadState:
    """What a later request gets back from the database row."""
    return UploadState.from_dict(json.loads(json.dumps(state.to_dict())))


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def upload(store: BlobStore, key: str, data: bytes, request_size: int = 3 * MiB) -> int:
    state = saved(store.start_upload(key))
    for request in pieces(data, request_size):
        state = saved(store.append(state, pieces(request, 64 * 1024)))
    return store.complete(state)


def test_appends_across_requests_make_one_blob(backend: Backend) -> None:
    store = backend.store
    data = os.urandom(2 * PART_SIZE + 3 * MiB + 17)  # two whole S3 parts and a short last one
    sizes = [1, 700 * 1024, 3 * MiB + 5, 0, 9 * MiB]
    state = saved(store.start_upload("case/1/exhibit"))
    position = 0
    for size in sizes:
        state = saved(store.append(state, pieces(data[position : position + size], 65_552)))
        position += size
    tail = data[position:]
    assert store.complete(state, tail) == len(data)
    assert store.size("case/1/exhibit") == len(data)
    assert b"".join(store.read("case/1/exhibit")) == data


def test_ranged_reads_return_exact_bytes(backend: Backend) -> None:
    data = os.urandom(3 * MiB + 11)
    upload(backend.store, "k", data)
    n = len(data)
    ranges = [(0, 1), (5, 5), (0, n), (MiB - 1, MiB + 1), (n - 1, n), (7, None), (n, None)]
    for start, end in ranges:
        assert b"".join(backend.store.read("k", start, end)) == data[start:end]
    assert b"".join(backend.store.read("k", n - 3, n + 100)) == data[n - 3 :]
    assert b"".join(backend.store.read("k", n + 5, n + 9)) == b""
    with pytest.raises(ValueError):
        backend.store.read("k", 5, 4)


def test_reads_stream_in_bounded_chunks(backend: Backend) -> None:
    upload(backend.store, "big", os.urandom(5 * MiB))
    assert max(len(chunk) for chunk in backend.store.read("big")) <= MiB


def test_an_upload_in_progress_is_not_a_blob(backend: Backend) -> None:
    store = backend.store
    state = store.append(store.start_upload("case/2"), [b"x" * 1000])
    with pytest.raises(BlobNotFound):
        store.size("case/2")
    with pytest.raises(BlobNotFound):
        store.read("case/2")
    assert [(e.key, e.complete) for e in store.list_keys("case/")] == [("case/2", False)]
    store.complete(state)
    assert [(e.key, e.complete) for e in store.list_keys("case/")] == [("case/2", True)]


def test_complete_is_idempotent(backend: Backend) -> None:
    store = backend.store
    data = os.urandom(PART_SIZE + 100)
    state = saved(store.append(store.start_upload("k"), [data[:-10]]))
    assert store.complete(state, data[-10:]) == len(data)
    assert store.complete(state, data[-10:]) == len(data)  # the first answer was lost
    assert b"".join(store.read("k")) == data


def test_a_retry_from_the_saved_state_replaces_what_a_lost_request_wrote(backend: Backend) -> None:
    store = backend.store
    first = os.urandom(3 * MiB)
    state = saved(store.append(store.start_upload("k"), [first]))
    # This request wrote a whole S3 part and staged bytes, but its state was never saved...
    store.append(state, pieces(os.urandom(PART_SIZE + MiB), MiB))
    # ...so the client re-sends from the saved offset, with different bytes.
    second = os.urandom(PART_SIZE + 2 * MiB + 1)
    state = saved(store.append(state, pieces(second, MiB)))
    assert store.complete(state) == len(first) + len(second)
    assert b"".join(store.read("k")) == first + second


def test_an_error_in_the_incoming_stream_propagates_and_the_state_stays_valid(
    backend: Backend,
) -> None:
    store = backend.store
    state = saved(store.append(store.start_upload("k"), [b"a" * 1000]))

    def broken_request() -> Iterator[bytes]:
        yield b"b" * 5000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.append(state, broken_request())
    state = saved(store.append(state, [b"c" * 10]))
    store.complete(state)
    assert b"".join(store.read("k")) == b"a" * 1000 + b"c" * 10


def test_a_write_failing_part_way_raises_and_leaves_no_blob(backend: Backend) -> None:
    store = backend.store
    head = os.urandom(MiB)
    state = saved(store.append(store.start_upload("case/3"), [head]))
    with ExitStack() as outage:

        def request() -> Iterator[bytes]:
            yield from pieces(os.urandom(PART_SIZE + MiB), 64 * 1024)
            outage.enter_context(backend.outage())
            yield os.urandom(64 * 1024)

        with pytest.raises(BlobStoreError):
            store.append(state, request())
        with pytest.raises(BlobStoreError):
            store.complete(state, b"final bytes")
    with pytest.raises(BlobNotFound):
        store.size("case/3")
    assert all(not entry.complete for entry in store.list_keys())
    # Once the store is back, the upload resumes from the last saved state.
    rest = os.urandom(2 * MiB)
    state = saved(store.append(state, [rest]))
    store.complete(state)
    assert b"".join(store.read("case/3")) == head + rest


def test_check_reports_an_unusable_store(backend: Backend) -> None:
    backend.store.check()
    with backend.outage(), pytest.raises(BlobStoreError):
        backend.store.check()
    backend.store.check()


def test_abort_removes_everything(backend: Backend) -> None:
    store = backend.store
    state = saved(store.append(store.start_upload("case/4"), [os.urandom(PART_SIZE + MiB)]))
    store.abort(state)
    store.abort(state)
    assert backend.stored_objects() == {}
    assert uploads_in_progress(backend) == []
    assert list(store.list_keys()) == []
    with pytest.raises(BlobStoreError):
        store.append(state, [b"more"])


def test_delete_removes_the_blob_and_any_upload_and_is_idempotent(backend: Backend) -> None:
    store = backend.store
    upload(store, "case/5", os.urandom(1000))
    store.append(store.start_upload("case/5"), [os.urandom(PART_SIZE + 10)])
    store.delete("case/5")
    store.delete("case/5")
    assert backend.stored_objects() == {}
    assert uploads_in_progress(backend) == []
    with pytest.raises(BlobNotFound):
        store.size("case/5")


def test_list_keys_by_prefix(backend: Backend) -> None:
    store = backend.store
    for key in ("acct-a/e1", "acct-a/e2", "acct-b/e1", "acct-ab/e1"):
        upload(store, key, b"ciphertext")
    store.append(store.start_upload("acct-a/e3"), [b"partial"])
    listed = {(e.key, e.complete) for e in store.list_keys("acct-a/")}
    assert listed == {("acct-a/e1", True), ("acct-a/e2", True), ("acct-a/e3", False)}
    assert {e.key for e in store.list_keys("acct-a")} == {
        "acct-a/e1",
        "acct-a/e2",
        "acct-a/e3",
        "acct-ab/e1",
    }
    assert len({e.key for e in store.list_keys()}) == 5


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "../x", "a/../b", ".uploads/x", "a/.b", "a b"])
def test_unsafe_keys_are_refused(backend: Backend, key: str) -> None:
    with pytest.raises(ValueError):
        backend.store.start_upload(key)
    with pytest.raises(ValueError):
        backend.store.size(key)


def test_a_missing_blob_is_reported_at_once(backend: Backend) -> None:
    with pytest.raises(BlobNotFound):
        backend.store.read("nothing/here")
    with pytest.raises(BlobNotFound):
        backend.store.append(UploadState(key="nothing/here", upload_id="gone"), [b"x"])


def test_local_files_are_private(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    upload(store, "acct/e1", b"ciphertext")
    assert (tmp_path / "blobs" / "acct" / "e1").stat().st_mode & 0o077 == 0
    assert (tmp_path / "blobs" / "acct").stat().st_mode & 0o077 == 0


def test_open_blob_store_reads_the_setting(
    tmp_path: Path, moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = open_blob_store("local", data_dir=tmp_path)
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "blobs"
    folder = open_blob_store(f"file://{tmp_path}/elsewhere", data_dir=tmp_path)
    assert isinstance(folder, LocalBlobStore) and folder.root == tmp_path / "elsewhere"

    bucket = moto_s3.new_bucket()
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_s3.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    s3 = open_blob_store(f"s3://{bucket}/chronicle/evidence", data_dir=tmp_path)
    assert isinstance(s3, S3BlobStore)
    s3.check()
    upload(s3, "acct/e1", b"ciphertext")
    stored = s3.client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in stored] == ["chronicle/evidence/acct/e1"]


@pytest.mark.parametrize(
    "url",
    ["", "s3", "ftp://host/x", "file://host/x", "file:relative", "s3://", "s3:///prefix",
     "s3://bucket/p?x=1", "gs://bucket"],
)  # fmt: skip
def test_open_blob_store_refuses_anything_else(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError):
        open_blob_store(url, data_dir=tmp_path)
