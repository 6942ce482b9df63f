"""The tus 1.0 protocol's headers: versions, offsets, lengths, metadata, checksums, dates.

Pure parsing, so the routes stay thin. Malformed headers are 400 (as tus says); the metadata
values are base64 and must decode to UTF-8 text.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import AppError, PreconditionFailed

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,checksum,expiration"
CHECKSUM_ALGORITHMS = "sha1,sha256"
MAX_METADATA_HEADER = 16 * 1024
MAX_FILE_NAME = 255
MAX_CAPTION = 5000
_DIGITS = re.compile(r"[0-9]{1,19}")
_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class MalformedRequest(AppError):
    status, type, title = 400, "bad-request", "Bad request"


class UnsupportedExtension(AppError):
    status, type, title = 400, "tus-extension-unsupported", "This tus extension is not supported"


class UnsupportedTusVersion(PreconditionFailed):
    type, title = "tus-version-unsupported", "This tus version is not supported"


def require_version(value: str | None) -> None:
    """412 for a client that does not speak tus 1.0.0 (the header names what we do speak)."""
    if value != TUS_VERSION:
        raise UnsupportedTusVersion(
            f"Send Tus-Resumable: {TUS_VERSION}; no other version is supported.",
            headers={"Tus-Version": TUS_VERSION},
        )


def parse_count(name: str, value: str | None) -> int:
    """A non-negative integer header (Upload-Length, Upload-Offset)."""
    if value is None or not _DIGITS.fullmatch(value.strip()):
        raise MalformedRequest(f"{name} must be a non-negative integer.")
    return int(value.strip())


@dataclass(frozen=True)
class Checksum:
    """An `Upload-Checksum`: the algorithm (a hashlib name) and the digest it must match."""

    algorithm: str
    digest: bytes


# tus says a server MUST support sha1; sha256 is what the chain records. (tuspy sends sha1.)
_DIGEST_SIZES = {"sha1": 20, "sha256": 32}


def parse_checksum(value: str | None) -> Checksum | None:
    """The `Upload-Checksum: <algorithm> <base64 digest>` header, if one was sent."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in _DIGEST_SIZES:
        raise MalformedRequest(f"Upload-Checksum supports {CHECKSUM_ALGORITHMS}.")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedRequest("Upload-Checksum is not valid base64.") from None
    if len(digest) != _DIGEST_SIZES[algorithm]:
        raise MalformedRequest(f"Upload-Checksum is not a {algorithm} digest.")
    return Checksum(algorithm, digest)


@dataclass(frozen=True)
class UploadMetadata:
    """What a client may say about its file: the name, a caption, the incidents it is for.

    A client's `filetype` is accepted and ignored: the type is sniffed from the content.
    """

    file_name: str = ""
    caption: str = ""
    incident_ids: tuple[uuid.UUID, ...] = ()


def parse_metadata(value: str | None) -> UploadMetadata:
    pairs = _metadata_pairs(value)
    file_name = pairs.get("filename", pairs.get("name", ""))
    caption = pairs.get("caption", "")
    if len(file_name) > MAX_FILE_NAME:
        raise MalformedRequest(f"The file name may be at most {MAX_FILE_NAME} characters.")
    if len(caption) > MAX_CAPTION:
        raise MalformedRequest(f"The caption may be at most {MAX_CAPTION} characters.")
    return UploadMetadata(
        file_name=file_name,
        caption=caption,
        incident_ids=tuple(parse_ids(pairs.get("incident_ids", ""), "incident_ids")),
    )


def metadata_header(metadata: UploadMetadata) -> str | None:
    """The `Upload-Metadata` a HEAD answers with: what the client gave, re-encoded (the
    server keeps it sealed, so it is rebuilt from the decrypted values)."""
    pairs = {
        "filename": metadata.file_name,
        "caption": metadata.caption,
        "incident_ids": ",".join(str(i) for i in metadata.incident_ids),
    }
    encoded = [
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in pairs.items()
        if value
    ]
    return ",".join(encoded) or None


def refuse_unsupported(
    concat: str | None, defer_length: str | None, content_length: str | None
) -> None:
    """The tus extensions this server does not offer, each refused by name (400)."""
    if concat is not None:
        raise UnsupportedExtension(
            "The concatenation extension is not supported (Upload-Concat): upload the file "
            "as one upload; PATCH it in chunks and resume with HEAD."
        )
    if defer_length is not None:
        raise UnsupportedExtension(
            "The creation-defer-length extension is not supported (Upload-Defer-Length): "
            "send Upload-Length when creating the upload."
        )
    if content_length not in (None, "", "0"):
        raise UnsupportedExtension(
            "The creation-with-upload extension is not supported: create the upload with an "
            "empty body, then PATCH the bytes."
        )


def parse_ids(text: str, name: str) -> list[uuid.UUID]:
    """Comma- or space-separated UUIDs (at most 100, as an incident's evidence_ids)."""
    parts = [part for part in re.split(r"[\s,]+", text) if part]
    try:
        ids = [uuid.UUID(part) for part in parts]
    except ValueError:
        raise MalformedRequest(f"{name} must be UUIDs separated by commas.") from None
    if len(ids) > 100:
        raise MalformedRequest(f"{name} may name at most 100 ids.")
    return sorted(set(ids))


def _metadata_pairs(value: str | None) -> dict[str, str]:
    if not value or not value.strip():
        return {}
    if len(value) > MAX_METADATA_HEADER:
        raise MalformedRequest("Upload-Metadata is too long.")
    pairs: dict[str, str] = {}
    for item in value.split(","):
        key, _, encoded = item.strip().partition(" ")
        if not _KEY.fullmatch(key) or key in pairs:
            raise MalformedRequest("Upload-Metadata must be unique keys with base64 values.")
        try:
            pairs[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise MalformedRequest(
                f"Upload-Metadata {key!r} is not base64 of UTF-8 text."
            ) from None
    return pairs


class MethodOverride:
    """ASGI: a tus request sent as POST with `X-HTTP-Method-Override` (for proxies that drop
    PATCH, DELETE or HEAD) is handled as the method it names, as tus says a server MUST."""

    _ALLOWED = frozenset({"PATCH", "DELETE", "HEAD"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith("/v1/uploads/")
        ):
            for name, value in scope["headers"]:
                if name == b"x-http-method-override":
                    wanted = value.decode("latin-1").strip().upper()
                    if wanted in self._ALLOWED:
                        scope = {**scope, "method": wanted}
                    break
        await self.app(scope, receive, send)


def http_date(moment: datetime) -> str:
    """RFC 9110 date, as Upload-Expires carries it."""
    return format_datetime(moment, usegmt=True)


@dataclass(frozen=True)
class Progress:
    """Where an upload stands after a request: what HEAD and PATCH answer in their headers."""

    received: int
    length: int
    expires_at: datetime
    done: bool

    def headers(self) -> dict[str, str]:
        headers = {"Upload-Offset": str(self.received), "Upload-Length": str(self.length)}
        if not self.done:
            headers["Upload-Expires"] = http_date(self.expires_at)
        return headers
