"""The export bundle as written: its layout, its manifest, and that standard tools accept it."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.crypto.signing import SigningKeys, key_fingerprint
from app.evidence.exhibits import Exhibit, safe_file_name
from app.exports.bundle.verify import verify_bundle
from app.exports.bundle.write import BundleError, write_bundle
from tests.exports.builders import (
    GENERATED_AT,
    Diary,
    Evidence,
    chain_for,
    evidence_bytes,
    evidence_for,
    read_zip,
)

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")


def extract(bundle: Path, into: Path) -> Path:
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(into)
    return into


def openssl_verify(folder: Path) -> subprocess.CompletedProcess[bytes]:
    command = (
        "openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin "
        "-in manifest.json -sigfile manifest.sig"
    )
    return subprocess.run(command.split(), cwd=folder, capture_output=True)


def test_bundle_holds_every_part_with_safe_names(bundle: Path, evidence: Evidence) -> None:
    names = set(read_zip(bundle))
    assert names == {
        "chronology.pdf",
        "chronology.json",
        "chain.json",
        "README.txt",
        "evidence/EX-001-car_bonnet_scratched.jpg",
        "evidence/EX-002-text_from_new_number.png",
        "evidence/EX-003-etc_passwd",
        "manifest.json",
        "SHA256SUMS",
        "manifest.sig",
        "manifest.sig.b64",
        "signing-key.pem",
    }
    files = read_zip(bundle)
    for exhibit in evidence.exhibits:
        assert files[exhibit.bundle_path] == evidence.files[exhibit.number]


def test_manifest_lists_every_file_with_size_and_sha256(
    bundle: Path, keys: SigningKeys, diary: Diary, evidence: Evidence
) -> None:
    files = read_zip(bundle)
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    expected = set(files) - {"manifest.json", "SHA256SUMS", "manifest.sig"}
    assert set(listed) == expected - {"manifest.sig.b64", "signing-key.pem"}
    for path, item in listed.items():
        assert item["size"] == len(files[path])
        assert item["sha256"] == hashlib.sha256(files[path]).hexdigest()
    chain = chain_for(diary, evidence)
    assert manifest["chain_head"] == {
        "length": len(chain["events"]),
        "hash": chain["events"][-1]["hash"],
    }
    assert manifest["signing_key_id"] == keys.current_id
    assert manifest["signing_key_sha256"] == key_fingerprint(keys.current.public_key)
    assert manifest["generated_at"] == "2026-05-01T09:00:00.000000Z"
    assert [e["number"] for e in manifest["exhibits"]] == ["EX-001", "EX-002", "EX-003"]
    assert json.loads(files["chronology.json"])["period"]["incident_count"] == 18


def test_signature_files_are_consistent(bundle: Path, keys: SigningKeys) -> None:
    files = read_zip(bundle)
    assert base64.b64decode(files["manifest.sig.b64"]) == files["manifest.sig"]
    keys.current.public_key.verify(files["manifest.sig"], files["manifest.json"])
    assert files["signing-key.pem"].decode() == keys.public_keys()[0].public_key_pem


def test_sha256sum_accepts_an_untouched_bundle(bundle: Path, tmp_path: Path) -> None:
    folder = extract(bundle, tmp_path / "out")
    result = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=folder, capture_output=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 8 and all(line.endswith(": OK") for line in lines)
    assert "manifest.json: OK" in lines


@needs_openssl
def test_the_documented_openssl_command_verifies_the_manifest(bundle: Path, tmp_path: Path) -> None:
    folder = extract(bundle, tmp_path / "out")
    result = openssl_verify(folder)
    assert result.returncode == 0, result.stderr
    assert b"Signature Verified Successfully" in result.stdout


@needs_openssl
def test_the_openssl_command_fails_on_a_modified_manifest(bundle: Path, tmp_path: Path) -> None:
    folder = extract(bundle, tmp_path / "out")
    manifest = folder / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"size": 2', b'"size": 3', 1))
    result = openssl_verify(folder)
    assert result.returncode != 0
    assert b"Signature Verification Failure" in result.stdout + result.stderr


@needs_openssl
def test_the_documented_fingerprint_command_matches_the_published_fingerprint(
    bundle: Path, tmp_path: Path, keys: SigningKeys
) -> None:
    folder = extract(bundle, tmp_path / "out")
    # The exact pipeline docs/verifying.md gives officers, so it runs in a shell.
    result = subprocess.run(  # noqa: S602
        "openssl pkey -pubin -in signing-key.pem -outform DER | tail -c 32 | sha256sum",
        shell=True,
        cwd=folder,
        capture_output=True,
        check=True,
    )
    assert result.stdout.decode().split()[0] == keys.public_keys()[0].fingerprint_sha256


def test_a_bundle_streamed_to_a_non_seekable_stream_verifies(
    tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys
) -> None:
    class Sink(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: object) -> int:
            chunk = bytes(b)  # type: ignore[call-overload]
            self.data += chunk
            return len(chunk)

    sink = Sink()
    write_bundle(
        sink,
        summary=diary.summary(),
        exhibits=evidence.exhibits,
        open_evidence=evidence.open,
        chain=chain_for(diary, evidence),
        identification="J.S.",
        keys=keys,
        generated_at=GENERATED_AT,
    )
    path = tmp_path / "streamed.zip"
    path.write_bytes(bytes(sink.data))
    report = verify_bundle(path, [keys.current.public_key])
    assert report.ok, report.problems


def test_evidence_is_streamed_not_held_in_memory(
    tmp_path: Path, diary: Diary, keys: SigningKeys
) -> None:
    size = 8 * 1024 * 1024
    digest = hashlib.sha256()
    for chunk in _chunks(size):
        digest.update(chunk)
    base = evidence_for([diary.incidents[0].id], size=0)
    big = replace(base.exhibits[0], size=size, sha256=digest.hexdigest())
    evidence = Evidence([big], {})
    pdf = b"%PDF-1.4 placeholder"
    tracemalloc.start()
    try:
        write_bundle(
            tmp_path / "big.zip",
            summary=diary.summary(),
            exhibits=[big],
            open_evidence=lambda _exhibit: _chunks(size),
            chain=chain_for(diary, evidence),
            identification="J.S.",
            keys=keys,
            generated_at=GENERATED_AT,
            pdf=pdf,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 4, f"peak {peak} bytes while writing an {size}-byte exhibit"
    assert verify_bundle(tmp_path / "big.zip", [keys.current.public_key]).ok


def _chunks(total: int) -> Iterator[bytes]:
    block = evidence_bytes(7, 64 * 1024)
    for _ in range(total // len(block)):
        yield block


def test_evidence_that_does_not_match_its_recorded_hash_aborts_the_export(
    tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys
) -> None:
    def corrupted(exhibit: Exhibit) -> Iterator[bytes]:
        data = evidence.files[exhibit.number]
        yield data[:-1] + b"!"

    path = tmp_path / "bundle.zip"
    with pytest.raises(BundleError, match="EX-001"):
        write_bundle(
            path,
            summary=diary.summary(),
            exhibits=evidence.exhibits,
            open_evidence=corrupted,
            chain=chain_for(diary, evidence),
            identification="J.S.",
            keys=keys,
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("C:\\Users\\me\\photo.jpg", "C_Users_me_photo.jpg"),
        ("/abs/path.png", "abs_path.png"),
        ("..", "file"),
        ("", "file"),
        ("Фото з телефону.jpg", "file.jpg"),
        ("café\x00\u202e.mp4", "cafe.mp4"),
        ("x" * 300 + ".jpeg", "x" * 75 + ".jpeg"),
        ("report.tar.gz", "report.tar.gz"),
        ("name.with spaces & $(rm -rf)", "name.with_spaces_rm_-rf"),
    ],
)
def test_file_names_are_made_safe(given: str, safe: str) -> None:
    assert safe_file_name(given) == safe
