"""Helpers for the evidence tests: files of accepted kinds, and tus spoken by hand.

The tus helpers take any client with httpx's request API (TestClient, httpx.Client), so the
same steps run in-process and against a live server.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from collections.abc import Sequence
from typing import Any, Protocol

from PIL import Image

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = {"Content-Type": "application/offset+octet-stream"}
MARKER = b"<<PLANTED: he followed me from the station to the school gate again>>"


class Requester(Protocol):
    def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x010F] = "Phonemaker"
    exif[0x0110] = "Model 7"
    exif.get_ifd(0x8769)[0x9003] = "2026:03:14 21:05:09"
    exif.get_ifd(0x8769)[0x9011] = "+01:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 0.0)
    gps[3], gps[4] = "W", (0.0, 7.0, 30.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def big_jpeg(size: int) -> bytes:
    """A JPEG head followed by `size` bytes in all, with the marker planted every 4 KiB."""
    data = bytearray(jpeg_with_exif())
    data += os.urandom(max(size - len(data), 0))
    for position in range(8192, max(size - len(MARKER), 0), 4096):
        data[position : position + len(MARKER)] = MARKER
    return bytes(data[:size])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def metadata(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items()
    )


def create(client: Requester, auth: dict[str, str], length: int, **meta: str) -> Any:
    headers = {**auth, **TUS, "Upload-Length": str(length)}
    if meta:
        headers["Upload-Metadata"] = metadata(**meta)
    return client.request("POST", "/v1/uploads", headers=headers)


def create_upload(client: Requester, auth: dict[str, str], length: int, **meta: str) -> str:
    """A new upload's path, /v1/uploads/{id}."""
    response = create(client, auth, length, **meta)
    assert response.status_code == 201, response.text
    location: str = response.headers["Location"]
    return location


def patch(
    client: Requester,
    auth: dict[str, str],
    location: str,
    offset: int,
    body: bytes,
    *,
    checksum: bytes | None = None,
) -> Any:
    headers = {**auth, **TUS, **OFFSET_STREAM, "Upload-Offset": str(offset)}
    if checksum is not None:
        headers["Upload-Checksum"] = "sha256 " + base64.b64encode(checksum).decode()
    return client.request("PATCH", location, headers=headers, content=body)


def head(client: Requester, auth: dict[str, str], location: str) -> Any:
    return client.request("HEAD", location, headers={**auth, **TUS})


def upload(
    client: Requester, auth: dict[str, str], data: bytes, *, chunk: int = 1 << 20, **meta: str
) -> str:
    """Upload `data` with tus in chunks; returns the evidence id."""
    location = create_upload(client, auth, len(data), **meta)
    for offset in range(0, len(data), chunk):
        response = patch(client, auth, location, offset, data[offset : offset + chunk])
        assert response.status_code == 204, response.text
        assert response.headers["Upload-Offset"] == str(min(offset + chunk, len(data)))
    return location.rsplit("/", 1)[-1]


def multipart(
    client: Requester,
    auth: dict[str, str],
    data: bytes,
    *,
    name: str = "photo.jpg",
    fields: dict[str, Any] | None = None,
) -> Any:
    return client.request(
        "POST",
        "/v1/evidence",
        headers=auth,
        files={"file": (name, data, "image/jpeg")},
        data=fields or {},
    )


def new_evidence(
    client: Requester, auth: dict[str, str], caption: str = "", incident_ids: Sequence[str] = ()
) -> str:
    """The id of a small photo uploaded in one request (for tests that need real evidence)."""
    fields: dict[str, Any] = {"caption": caption}
    if incident_ids:
        fields["incident_ids"] = list(incident_ids)
    response = multipart(client, auth, jpeg_with_exif(), fields=fields)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
