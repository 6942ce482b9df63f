"""Blob store on any S3-compatible object store (AWS S3, MinIO, Ceph, moto).

BLOB_STORE=s3://bucket/prefix. Credentials, region and endpoint come from the standard AWS
configuration (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3 or
AWS_ENDPOINT_URL for MinIO and the like, which also switches to path-style addressing).

Appending. An S3 object cannot be appended to, and the parts of a multipart upload must be at
least 5 MiB except the last, while a tus PATCH may carry any number of bytes. So:

- `start_upload` creates a multipart upload for <prefix>/<key>.
- `append` cuts the bytes not yet in a part into parts of exactly PART_SIZE and uploads each
  as soon as it is full. The remainder (< PART_SIZE) is put as a small staged object at
  <prefix>/.uploads/<key>/.<token>/<offset>. When a later append reaches the next part
  boundary it reads the staged objects back and sends them at the front of that part. An
  append that sends no part asks S3 (ListParts) whether the upload still exists, so writing to
  an aborted or expired upload fails at once, not at completion.
- `complete` sends the staged objects and the final bytes as the last part and completes the
  multipart upload; only then does an object appear at <prefix>/<key>. It then deletes the
  staging objects.

A byte is uploaded at most twice and the process holds at most about one part of ciphertext.
Staged objects are deleted only by complete, abort or delete, never by an append, and a part
number is re-used only by an append retried from an older state, so a saved state stays valid
whatever happened after it was saved. Uploads that never complete are found by `list_keys`
(complete=False) for the cleanup command.

Checksums are sent only where S3 requires them: some S3-compatible stores reject the newer
default checksum headers, and the stored bytes are authenticated by AES-GCM anyway (the
evidence writer decrypts the whole blob once at completion).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.response import StreamingBody

from app.blobs.base import (
    BlobEntry,
    BlobNotFound,
    BlobStoreError,
    UploadState,
    check_key,
    check_prefix,
    check_range,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000
READ_CHUNK = 1024 * 1024
UPLOADS = ".uploads/"
_MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchUpload"})


class S3BlobStore:
    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        prefix = prefix.strip("/")
        self._root = f"{check_key(prefix)}/" if prefix else ""

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"BLOB_STORE {url!r} is not of the form s3://bucket/prefix")
        custom_endpoint = bool(
            os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        )
        config = Config(
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=5,
            read_timeout=60,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3={"addressing_style": "path"} if custom_endpoint else None,
        )
        client = boto3.session.Session().client("s3", config=config)
        return cls(client, parts.netloc, parts.path)

    def __repr__(self) -> str:
        return f"S3BlobStore(s3://{self.bucket}/{self._root})"

    def _object(self, key: str) -> str:
        return self._root + check_key(key)

    def _staging(self, key: str, upload_id: str = "") -> str:
        """Prefix of the staged objects of one upload, or of every upload of `key`."""
        token = hashlib.sha256(upload_id.encode()).hexdigest()[:16] if upload_id else ""
        return f"{self._root}{UPLOADS}{check_key(key)}/.{token}"

    def start_upload(self, key: str) -> UploadState:
        with _errors("start an upload of", key):
            created = self.client.create_multipart_upload(
                Bucket=self.bucket,
                Key=self._object(key),
                ContentType="application/octet-stream",
            )
        return UploadState(key=key, upload_id=created["UploadId"])

    def append(
        self, state: UploadState, chunks: Iterable[bytes], *, durable: bool = True
    ) -> UploadState:
        # Every part and staged object is durable once S3 has answered: `durable` changes nothing.
        parts, staged, size = list(state.parts), list(state.staged), state.size
        buffer = bytearray()
        for chunk in chunks:
            buffer += chunk
            size += len(chunk)
            if size - len(parts) * PART_SIZE < PART_SIZE:
                continue
            if staged:
                buffer[:0] = self._read_staged(state, staged, end=size - len(buffer))
                staged = []
            while len(buffer) >= PART_SIZE:
                parts.append(self._upload_part(state, len(parts) + 1, buffer[:PART_SIZE]))
                del buffer[:PART_SIZE]
        if len(parts) == len(state.parts):
            self._check_upload(state)  # no part went up to prove the upload still exists
        if buffer:
            offset = size - len(buffer)
            with _errors("stage bytes of", state.key):
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=f"{self._staging(state.key, state.upload_id)}/{offset:016d}",
                    Body=bytes(buffer),
                )
            staged.append(offset)
        return replace(state, size=size, parts=tuple(parts), staged=tuple(staged))

    def flush(self, state: UploadState) -> None:
        """Nothing to do: `append` returns only once S3 holds every byte it appended."""

    def complete(self, state: UploadState, tail: bytes = b"") -> int:
        expected = state.size + len(tail)
        try:
            self._complete(state, tail)
        except BlobNotFound:
            if self._size_or_none(state.key) != expected:
                raise
            # Completed by an earlier call whose result was lost: only the clean-up is left.
        actual = self._size_or_none(state.key)
        if actual != expected:
            self.delete(state.key)
            raise BlobStoreError(f"S3 assembled {actual} bytes for {state.key!r}, not {expected}")
        self._delete_prefix(self._staging(state.key, state.upload_id))
        return expected

    def _complete(self, state: UploadState, tail: bytes) -> None:
        last = self._read_staged(state, list(state.staged), end=state.size) + tail
        with _errors("complete the upload of", state.key):
            if state.size + len(tail) == 0:
                self.client.put_object(Bucket=self.bucket, Key=self._object(state.key), Body=b"")
                self.abort(state)
                return
            parts = list(state.parts)
            if last:
                parts.append(self._upload_part(state, len(parts) + 1, last))
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self._object(state.key),
                UploadId=state.upload_id,
                MultipartUpload={
                    "Parts": [{"ETag": etag, "PartNumber": n} for n, etag in enumerate(parts, 1)]
                },
            )

    def abort(self, state: UploadState) -> None:
        with _errors("abort the upload of", state.key):
            try:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self._object(state.key), UploadId=state.upload_id
                )
            except ClientError as exc:
                if _code(exc) not in _MISSING:
                    raise
        self._delete_prefix(self._staging(state.key, state.upload_id))

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        check_range(start, end)
        if end == start:
            self.size(key)
            return iter(())
        byte_range = f"bytes={start}-{'' if end is None else end - 1}"
        with _errors("read", key):
            try:
                response = self.client.get_object(
                    Bucket=self.bucket, Key=self._object(key), Range=byte_range
                )
            except ClientError as exc:
                if _code(exc) != "InvalidRange":
                    raise
                self.size(key)  # the blob exists, and the range starts at or past its end
                return iter(())
        return _stream(response["Body"], key)

    def size(self, key: str) -> int:
        size = self._size_or_none(key)
        if size is None:
            raise BlobNotFound(f"no blob {key!r}")
        return size

    def delete(self, key: str) -> None:
        obj = self._object(key)
        with _errors("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=obj)
            pages = self.client.get_paginator("list_multipart_uploads")
            for page in pages.paginate(Bucket=self.bucket, Prefix=obj):
                for upload in page.get("Uploads", []):
                    if upload.get("Key") == obj and "UploadId" in upload:
                        self.abort(UploadState(key=key, upload_id=upload["UploadId"]))
        self._delete_prefix(self._staging(key))

    def list_keys(self, prefix: str = "") -> Iterator[BlobEntry]:
        check_prefix(prefix)
        with _errors("list", prefix):
            objects = self.client.get_paginator("list_objects_v2")
            for page in objects.paginate(Bucket=self.bucket, Prefix=self._root + prefix):
                for item in page.get("Contents", []):
                    key = item["Key"].removeprefix(self._root)
                    if not key.startswith(UPLOADS):
                        yield BlobEntry(key=key, modified=item["LastModified"], complete=True)
            seen: set[str] = set()
            uploads = self.client.get_paginator("list_multipart_uploads")
            for in_progress in uploads.paginate(Bucket=self.bucket, Prefix=self._root + prefix):
                for upload in in_progress.get("Uploads", []):
                    key = upload["Key"].removeprefix(self._root)
                    if key not in seen:
                        seen.add(key)
                        yield BlobEntry(key=key, modified=upload["Initiated"], complete=False)
            staging = self._root + UPLOADS + prefix
            for listing in objects.paginate(Bucket=self.bucket, Prefix=staging):
                for item in listing.get("Contents", []):
                    key = item["Key"].removeprefix(self._root + UPLOADS).partition("/.")[0]
                    if key not in seen:
                        seen.add(key)
                        yield BlobEntry(key=key, modified=item["LastModified"], complete=False)

    def check(self) -> None:
        with _errors("reach the bucket of", self.bucket):
            self.client.head_bucket(Bucket=self.bucket)

    def _check_upload(self, state: UploadState) -> None:
        with _errors("find the upload of", state.key):
            self.client.list_parts(
                Bucket=self.bucket,
                Key=self._object(state.key),
                UploadId=state.upload_id,
                MaxParts=1,
            )

    def _size_or_none(self, key: str) -> int | None:
        try:
            with _errors("read the size of", key):
                head = self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except BlobNotFound:
            return None
        return head["ContentLength"]

    def _upload_part(self, state: UploadState, number: int, data: bytearray | bytes) -> str:
        if number > MAX_PARTS:
            raise BlobStoreError(f"upload {state.key!r} exceeds {MAX_PARTS} parts")
        with _errors("upload a part of", state.key):
            response = self.client.upload_part(
                Bucket=self.bucket,
                Key=self._object(state.key),
                UploadId=state.upload_id,
                PartNumber=number,
                Body=bytes(data),
            )
        return response["ETag"]

    def _read_staged(self, state: UploadState, offsets: list[int], *, end: int) -> bytes:
        """The staged objects at `offsets` (which run up to `end`), concatenated."""
        data = bytearray()
        for offset, stop in zip(offsets, [*offsets[1:], end][: len(offsets)], strict=True):
            name = f"{self._staging(state.key, state.upload_id)}/{offset:016d}"
            with _errors("read staged bytes of", state.key):
                chunk = self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()
            if len(chunk) != stop - offset:
                raise BlobStoreError(f"staged bytes of {state.key!r} at {offset} are damaged")
            data += chunk
        return bytes(data)

    def _delete_prefix(self, prefix: str) -> None:
        with _errors("clean up", prefix):
            pages = self.client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                keys: list[ObjectIdentifierTypeDef] = [
                    {"Key": item["Key"]} for item in page.get("Contents", [])
                ]
                if not keys:
                    continue
                result = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                )
                if result.get("Errors"):
                    raise BlobStoreError(f"S3 could not delete every object under {prefix!r}")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _errors(action: str, name: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = _code(exc)
        if code in _MISSING:
            raise BlobNotFound(f"S3 has no {name!r} ({code})") from exc
        raise BlobStoreError(f"S3 could not {action} {name!r}: {code or exc}") from exc
    except BotoCoreError as exc:
        raise BlobStoreError(f"S3 could not {action} {name!r}: {exc}") from exc


def _stream(body: StreamingBody, key: str) -> Iterator[bytes]:
    try:
        with _errors("read", key):
            yield from body.iter_chunks(READ_CHUNK)
    except OSError as exc:
        raise BlobStoreError(f"S3 read of {key!r} broke off: {exc}") from exc
    finally:
        body.close()
