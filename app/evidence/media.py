"""What kind of file an upload really is, and what its capture metadata says.

The media type is sniffed from the first bytes of the content against an explicit
allow-list of signatures; the client's Content-Type and file name are never trusted. The
list is written out here rather than taken from a general-purpose magic library because it
is a security boundary: a format is accepted only if a line below names it.

Capture metadata (EXIF date and time, device, GPS) is read from the head of an image
without decoding its pixels, so a hostile image cannot exhaust memory.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from PIL import Image, UnidentifiedImageError

Kind = Literal["image", "audio", "video", "document"]

# How much of the start of a file sniffing and metadata extraction look at.
HEAD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class MediaType:
    mime: str
    kind: Kind
    extension: str


JPEG = MediaType("image/jpeg", "image", "jpg")
PNG = MediaType("image/png", "image", "png")
GIF = MediaType("image/gif", "image", "gif")
WEBP = MediaType("image/webp", "image", "webp")
HEIC = MediaType("image/heic", "image", "heic")
MP4 = MediaType("video/mp4", "video", "mp4")
QUICKTIME = MediaType("video/quicktime", "video", "mov")
THREE_GP = MediaType("video/3gpp", "video", "3gp")
WEBM = MediaType("video/webm", "video", "webm")
M4A = MediaType("audio/mp4", "audio", "m4a")
MP3 = MediaType("audio/mpeg", "audio", "mp3")
OGG = MediaType("audio/ogg", "audio", "ogg")
WAV = MediaType("audio/wav", "audio", "wav")
AMR = MediaType("audio/amr", "audio", "amr")
PDF = MediaType("application/pdf", "document", "pdf")
TEXT = MediaType("text/plain", "document", "txt")
EMAIL = MediaType("message/rfc822", "document", "eml")
# Chat exports (WhatsApp, Signal, Telegram) come as .zip or .txt; office files are zips or OLE.
ZIP = MediaType("application/zip", "document", "zip")
DOCX = MediaType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document", "docx"
)
XLSX = MediaType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "document", "xlsx"
)
PPTX = MediaType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation", "document", "pptx"
)
ODT = MediaType("application/vnd.oasis.opendocument.text", "document", "odt")
OLE_OFFICE = MediaType("application/x-ole-storage", "document", "doc")  # .doc, .xls, .ppt, .msg

ALLOWED: tuple[MediaType, ...] = (
    JPEG, PNG, GIF, WEBP, HEIC, MP4, QUICKTIME, THREE_GP, WEBM,
    M4A, MP3, OGG, WAV, AMR, PDF, TEXT, EMAIL, ZIP, DOCX, XLSX, PPTX, ODT, OLE_OFFICE,
)  # fmt: skip
# What people are told up front (OPTIONS /v1/uploads, README): the kinds, in plain words.
ACCEPTED_TEXT = (
    "photos (JPEG, PNG, GIF, WebP, HEIC), video and screen recordings (MP4, MOV, 3GP, WebM), "
    "audio and voice notes (M4A, MP3, OGG, WAV, AMR), PDF, plain text and chat exports (.txt, "
    ".zip), e-mails (.eml) and office documents (Word, Excel, PowerPoint, OpenDocument)"
)
_HEADER_LINE = re.compile(rb"[A-Za-z][A-Za-z0-9-]*:[ \t]")

# ISO base media ("ftyp") brands: phones record video, voice notes and photos in this box format.
_FTYP_BRANDS = {
    b"heic": HEIC, b"heix": HEIC, b"heim": HEIC, b"heis": HEIC, b"mif1": HEIC, b"msf1": HEIC,
    b"isom": MP4, b"iso2": MP4, b"iso4": MP4, b"iso5": MP4, b"iso6": MP4, b"mp41": MP4,
    b"mp42": MP4, b"avc1": MP4, b"dash": MP4, b"M4V ": MP4, b"MSNV": MP4,
    b"qt  ": QUICKTIME, b"3gp4": THREE_GP, b"3gp5": THREE_GP, b"3gp6": THREE_GP,
    b"3g2a": THREE_GP, b"M4A ": M4A, b"M4B ": M4A,
}  # fmt: skip


def sniff(head: bytes) -> MediaType | None:
    """The allowed media type these first bytes belong to, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12])
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return MP3
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"#!AMR"):
        return AMR
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(head)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE_OFFICE
    if _is_text(head):
        return EMAIL if _is_email(head) else TEXT
    return None


def _is_email(head: bytes) -> bool:
    """RFC 5322: header lines up to the first blank line, a From among them (a note that
    starts "Date: Tuesday" stays text)."""
    headers = head[:8192].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].split(b"\n")
    fields = [line for line in headers if _HEADER_LINE.match(line)]
    return len(fields) >= 3 and any(line.lower().startswith(b"from:") for line in fields)


def _zip_kind(head: bytes) -> MediaType:
    """An office document is a zip whose first entries say what it is."""
    window = head[:4096]
    if b"mimetype" in window[:64] and b"application/vnd.oasis.opendocument.text" in window:
        return ODT
    if b"[Content_Types].xml" in window or b"_rels/" in window:
        for marker, kind in ((b"word/", DOCX), (b"xl/", XLSX), (b"ppt/", PPTX)):
            if marker in head:
                return kind
    return ZIP


_CONTROL = frozenset(chr(c) for c in [*range(0x20), 0x7F]) - set("\t\n\r\f")


def _is_text(head: bytes) -> bool:
    """UTF-8 without control characters (a head may end in the middle of a character)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not (len(head) >= HEAD_BYTES - 3 and exc.start >= len(head) - 3):
            return False
        text = head[: exc.start].decode("utf-8")
    return bool(text) and _CONTROL.isdisjoint(text)


@dataclass(frozen=True)
class CaptureMetadata:
    captured_at: datetime | None = None
    device: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    width: int | None = None
    height: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "captured_at": self.captured_at.isoformat() if self.captured_at else None,
            "device": self.device,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "width": self.width,
            "height": self.height,
        }


_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _DATETIME, _DATETIME_ORIGINAL, _OFFSET_ORIGINAL = (
    0x010F,
    0x0110,
    0x0132,
    0x9003,
    0x9011,
)


def extract_metadata(head: bytes, media: MediaType) -> CaptureMetadata:
    """EXIF capture facts of an image; empty for anything else or anything unreadable."""
    if media.kind != "image" or media is HEIC:
        return CaptureMetadata()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(head))
            exif = image.getexif()
            width, height = image.size
            details = exif.get_ifd(_EXIF_IFD)
            gps = exif.get_ifd(_GPS_IFD)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return CaptureMetadata()
    device = " ".join(
        str(part).strip("\x00 ") for part in (exif.get(_MAKE), exif.get(_MODEL)) if part
    )
    return CaptureMetadata(
        captured_at=_exif_time(
            details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME), details.get(_OFFSET_ORIGINAL)
        ),
        device=device[:200] or None,
        latitude=_gps_degrees(gps.get(2), gps.get(1), "S"),
        longitude=_gps_degrees(gps.get(4), gps.get(3), "W"),
        width=width,
        height=height,
    )


def _exif_time(value: Any, offset: Any) -> datetime | None:
    """EXIF time is local to the camera; with no offset recorded it is taken as UTC."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(offset, str):
        try:
            aware = datetime.strptime(f"{value.strip()} {offset.strip()}", "%Y:%m:%d %H:%M:%S %z")
            return aware.astimezone(UTC)
        except ValueError:
            pass
    return moment.replace(tzinfo=UTC)


def _gps_degrees(value: Any, ref: Any, negative: str) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if not (0 <= result <= 180):
        return None
    return round(-result if str(ref).strip("\x00") == negative else result, 7)
