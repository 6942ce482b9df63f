"""Media types come from the bytes, never from the client; EXIF capture facts are read."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from app.evidence import media


def _jpeg_with_exif() -> bytes:
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


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (3, 3)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, media.JPEG),
        (b"GIF89a" + b"\x00" * 10, media.GIF),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", media.WEBP),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", media.WAV),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", media.HEIC),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", media.MP4),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", media.QUICKTIME),
        (b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00", media.M4A),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", media.WEBM),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", media.MP3),
        (b"OggS\x00\x02", media.OGG),
        (b"#!AMR\n", media.AMR),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", media.PDF),
        ("He said he'd be waiting 😠\n".encode(), media.TEXT),
    ],
)
def test_allowed_types_are_sniffed_from_content(head: bytes, expected: media.MediaType) -> None:
    assert media.sniff(head) is expected


def test_real_images_are_recognised() -> None:
    assert media.sniff(_jpeg_with_exif()) is media.JPEG
    assert media.sniff(_png()) is media.PNG


@pytest.mark.parametrize(
    "head",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows executable
        b"\x7fELF\x02\x01\x01",
        b"7z\xbc\xaf\x27\x1c\x00\x04",  # a 7-Zip archive (zip is accepted: chat exports)
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>\x00",
        b"\x00\x00\x00\x18ftypXXXX",  # an unknown ISO brand
        b"",
        b"text with a NUL\x00 inside",
        b"\xc3\x28 invalid utf-8 in the middle",
    ],
)
def test_anything_else_is_refused(head: bytes) -> None:
    assert media.sniff(head) is None


def test_exif_capture_facts_are_extracted() -> None:
    data = _jpeg_with_exif()
    found = media.extract_metadata(data, media.JPEG)
    assert found.captured_at == datetime(2026, 3, 14, 20, 5, 9, tzinfo=UTC)
    assert found.device == "Phonemaker Model 7"
    assert found.latitude == 51.5
    assert found.longitude == -0.125
    assert (found.width, found.height) == (64, 48)


def test_images_without_exif_and_broken_images_give_empty_metadata() -> None:
    assert media.extract_metadata(_png(), media.PNG).captured_at is None
    broken = media.extract_metadata(b"\xff\xd8\xff\xe0garbage", media.JPEG)
    assert broken == media.CaptureMetadata()
    assert media.extract_metadata(b"%PDF-1.4", media.PDF) == media.CaptureMetadata()


def test_metadata_reads_only_the_head_of_a_huge_image() -> None:
    head = _jpeg_with_exif()[: media.HEAD_BYTES]
    assert media.extract_metadata(head, media.JPEG).device == "Phonemaker Model 7"
