"""Blob storage for evidence files and export results: a local folder or an S3-compatible store.

What reaches a store is always ciphertext, written and read by app.blobs.encrypted.

BLOB_STORE selects it: "local" (DATA_DIR/blobs), "file:///absolute/path", or
"s3://bucket/prefix" (credentials and endpoint from the standard AWS environment).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from app.blobs.base import BlobEntry, BlobNotFound, BlobStore, BlobStoreError, UploadState
from app.blobs.local import LocalBlobStore
from app.blobs.s3 import S3BlobStore

__all__ = [
    "BlobEntry",
    "BlobNotFound",
    "BlobStore",
    "BlobStoreError",
    "LocalBlobStore",
    "S3BlobStore",
    "UploadState",
    "open_blob_store",
    "remove_blob",
    "remove_unreferenced",
]


def open_blob_store(url: str, *, data_dir: Path) -> BlobStore:
    """The store that BLOB_STORE names; ValueError if it names none."""
    if url == "local":
        return LocalBlobStore(data_dir / "blobs")
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or parts.query or not path.startswith("/"):
            raise ValueError(f"BLOB_STORE {url!r} is not of the form file:///absolute/path")
        return LocalBlobStore(Path(path))
    if parts.scheme == "s3":
        return S3BlobStore.from_url(url)
    raise ValueError(
        f"BLOB_STORE {url!r} is not supported: use 'local', 'file:///absolute/path' "
        "or 's3://bucket/prefix'"
    )


def remove_blob(store: BlobStore, blob_key: str) -> bool:
    """Remove one blob; False (and a warning) if the store fails: the cleanup command retries."""
    try:
        store.delete(blob_key)
    except BlobStoreError:
        logging.getLogger("app.blobs").warning("blob removal deferred to the cleanup command")
        return False
    return True


def remove_unreferenced(
    store: BlobStore, prefix: str, referenced: Collection[str], older_than: datetime
) -> int:
    """Delete the blobs under `prefix` that no row refers to, written before `older_than`.

    The age guard spares a blob whose row is being written right now. A blob that cannot be
    removed is left for the next run. Returns how many were removed.
    """
    removed = 0
    seen: set[str] = set()
    for entry in list(store.list_keys(prefix)):
        if entry.key in referenced or entry.key in seen or entry.modified >= older_than:
            continue
        seen.add(entry.key)
        try:
            store.delete(entry.key)
        except BlobStoreError:
            logging.getLogger("app.blobs").warning("an unreferenced blob could not be removed")
            continue
        removed += 1
    return removed
