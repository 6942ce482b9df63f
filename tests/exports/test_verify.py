"""The offline verifier: it accepts a real bundle and names exactly what was changed in any other.

Tampering is done the way an adversary would: unpack, change, re-zip.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app.crypto.signing import SigningKeys, public_key_pem
from app.exports.bundle.verify import load_public_keys, main, verify_bundle
from app.exports.bundle.write import write_bundle
from tests.exports.builders import (
    GENERATED_AT,
    Diary,
    Evidence,
    chain_for,
    flip_middle_byte,
    make_bundle,
    read_zip,
    write_zip,
)

ROOT = Path(__file__).resolve().parents[2]
SIGNATURE_FILES = {"manifest.sig", "manifest.sig.b64", "signing-key.pem"}
ALL_FILES = [
    "chronology.pdf",
    "chronology.json",
    "chain.json",
    "README.txt",
    "evidence/EX-001-car_bonnet_scratched.jpg",
    "evidence/EX-002-text_from_new_number.png",
    "evidence/EX-003-etc_passwd",
    "manifest.json",
    "SHA256SUMS",
    *sorted(SIGNATURE_FILES),
]


def tampered(bundle: Path, tmp_path: Path, **changes: bytes | None) -> Path:
    """A copy of `bundle` with files replaced (bytes) or removed (None), re-zipped."""
    files = read_zip(bundle)
    for name, data in changes.items():
        if data is None:
            files.pop(name)
        else:
            files[name] = data
    path = tmp_path / "tampered.zip"
    write_zip(path, files)
    return path


def with_file(bundle: Path, tmp_path: Path, name: str, data: bytes | None) -> Path:
    return tampered(bundle, tmp_path, **{name: data})


def test_a_real_bundle_verifies_with_the_published_key(bundle: Path, keys: SigningKeys) -> None:
    report = verify_bundle(bundle, [keys.current.public_key])
    assert report.ok, report.problems
    assert report.problems == []
    assert report.key_id == keys.current_id
    assert report.chain_length == 21
    assert report.files_checked == 7
    assert report.notes == []


def test_without_a_trusted_key_the_report_says_the_key_was_not_compared(bundle: Path) -> None:
    report = verify_bundle(bundle)
    assert report.ok
    assert any("compare its fingerprint" in note for note in report.notes)


@pytest.mark.parametrize("name", ALL_FILES)
def test_one_changed_byte_in_any_file_is_named(
    name: str, bundle: Path, tmp_path: Path, keys: SigningKeys
) -> None:
    original = read_zip(bundle)[name]
    path = with_file(bundle, tmp_path, name, flip_middle_byte(original))
    report = verify_bundle(path, [keys.current.public_key])
    assert not report.ok
    assert report.problems and all(name in p for p in report.problems[:1]), report.problems
    if name not in SIGNATURE_FILES and name not in ("manifest.json", "SHA256SUMS"):
        assert report.problems[0].startswith(f"{name}: SHA-256 mismatch (manifest says ")
    if name not in SIGNATURE_FILES:
        folder = tmp_path / "unpacked"
        with zipfile.ZipFile(path) as archive:
            archive.extractall(folder)
        result = subprocess.run(
            ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=folder, capture_output=True
        )
        assert result.returncode != 0


def test_the_mismatch_message_gives_both_hashes(bundle: Path, tmp_path: Path) -> None:
    name = "evidence/EX-002-text_from_new_number.png"
    manifest = json.loads(read_zip(bundle)["manifest.json"])
    listed = next(f["sha256"] for f in manifest["files"] if f["path"] == name)
    changed = flip_middle_byte(read_zip(bundle)[name])
    actual = hashlib.sha256(changed).hexdigest()
    report = verify_bundle(with_file(bundle, tmp_path, name, changed))
    assert report.problems == [
        f"{name}: SHA-256 mismatch (manifest says {listed}, file is {actual})"
    ]


def test_a_missing_file_is_reported(bundle: Path, tmp_path: Path) -> None:
    name = "evidence/EX-003-etc_passwd"
    report = verify_bundle(with_file(bundle, tmp_path, name, None))
    assert report.problems == [f"listed file missing: {name}"]


def test_an_extra_file_is_reported(bundle: Path, tmp_path: Path) -> None:
    report = verify_bundle(with_file(bundle, tmp_path, "evidence/EX-004-planted.jpg", b"x"))
    assert report.problems == ["file not listed in manifest: evidence/EX-004-planted.jpg"]


def test_unsafe_names_in_the_zip_are_reported(bundle: Path, tmp_path: Path) -> None:
    report = verify_bundle(with_file(bundle, tmp_path, "../../outside.txt", b"x"))
    assert "unsafe file name in the zip: '../../outside.txt'" in report.problems
    assert "file not listed in manifest: ../../outside.txt" in report.problems


def test_a_manifest_signed_by_another_key_fails(
    tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys, other_keys: SigningKeys
) -> None:
    path = tmp_path / "other.zip"
    make_bundle(path, diary, evidence, other_keys)
    report = verify_bundle(path, [keys.current.public_key])
    assert report.problems == [
        f"manifest.sig does not verify with any trusted key (the manifest names key "
        f"{other_keys.current_id}): manifest.json was changed or signed by another key"
    ]


def test_a_re_signed_forgery_only_passes_without_the_published_key(
    bundle: Path, tmp_path: Path, keys: SigningKeys, other_keys: SigningKeys
) -> None:
    """An adversary who changes evidence and re-signs everything with their own key."""
    files = read_zip(bundle)
    name = "evidence/EX-001-car_bonnet_scratched.jpg"
    files[name] = b"a different photograph"
    manifest = json.loads(files["manifest.json"])
    for item in manifest["files"]:
        if item["path"] == name:
            item["sha256"] = hashlib.sha256(files[name]).hexdigest()
            item["size"] = len(files[name])
    forged = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    files["manifest.json"] = forged
    _, files["manifest.sig"] = other_keys.sign_manifest(forged)
    files["manifest.sig.b64"] = base64.b64encode(files["manifest.sig"])
    files["signing-key.pem"] = public_key_pem(other_keys.current.public_key).encode()
    path = tmp_path / "forged.zip"
    write_zip(path, files)
    with_published = verify_bundle(path, [keys.current.public_key])
    assert any("does not verify with any trusted key" in p for p in with_published.problems)
    names_key = "signing-key.pem is not the key the manifest names"
    assert any(names_key in p for p in with_published.problems)


def test_a_tampered_chain_event_is_reported_at_its_seq(
    tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys
) -> None:
    chain: dict[str, Any] = copy.deepcopy(chain_for(diary, evidence))
    chain["events"][6]["recorded_at"] = "2026-02-27T18:51:00.000000Z"
    path = tmp_path / "chain.zip"
    make_bundle(path, diary, evidence, keys, chain=chain)
    report = verify_bundle(path, [keys.current.public_key])
    assert report.problems == [
        "chain.json: the chain breaks at seq 7: the hash does not match the event's fields"
    ]


def test_tampered_revision_content_is_reported_at_its_event(
    tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys
) -> None:
    chain: dict[str, Any] = copy.deepcopy(chain_for(diary, evidence))
    chain["revisions"][3]["content"]["description"] = "Something else entirely."
    path = tmp_path / "chain.zip"
    make_bundle(path, diary, evidence, keys, chain=chain)
    report = verify_bundle(path, [keys.current.public_key])
    assert report.problems == [
        "chain.json: the chain breaks at seq 4: the content does not match its commitment"
    ]


def test_an_exhibit_whose_hash_no_evidence_event_records_is_reported(
    tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys
) -> None:
    chain: dict[str, Any] = copy.deepcopy(chain_for(diary, evidence))
    chain["events"] = chain["events"][:-1]  # drop the last evidence.added event
    path = tmp_path / "chain.zip"
    make_bundle(path, diary, evidence, keys, chain=chain)
    exhibit = evidence.exhibits[-1]
    report = verify_bundle(path, [keys.current.public_key])
    assert report.problems == [
        f"{exhibit.bundle_path}: no evidence event in chain.json records this file's SHA-256 "
        f"for evidence {exhibit.evidence_id}"
    ]


def test_a_chain_head_that_differs_from_the_manifest_is_reported(
    tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys
) -> None:
    result = make_bundle(tmp_path / "a.zip", diary, evidence, keys)
    files = read_zip(tmp_path / "a.zip")
    chain = json.loads(files["chain.json"])
    chain["events"] = chain["events"][:-1]
    chain_bytes = (json.dumps(chain, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    manifest = json.loads(result.manifest)
    for item in manifest["files"]:
        if item["path"] == "chain.json":
            item["sha256"], item["size"] = hashlib.sha256(chain_bytes).hexdigest(), len(chain_bytes)
    signed = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    _, signature = keys.sign_manifest(signed)
    files.update({"chain.json": chain_bytes, "manifest.json": signed, "manifest.sig": signature})
    files["manifest.sig.b64"] = base64.b64encode(signature)
    files["SHA256SUMS"] = b""
    write_zip(tmp_path / "b.zip", files)
    report = verify_bundle(tmp_path / "b.zip", [keys.current.public_key])
    assert any(p.startswith("chain.json: the chain ends at seq 20") for p in report.problems)


def test_not_a_zip_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "junk.zip"
    path.write_bytes(b"not a zip at all")
    report = verify_bundle(path)
    assert not report.ok
    assert report.problems[0].startswith(f"{path}: not a readable zip file")


def test_cli_exit_codes_and_report(
    bundle: Path, tmp_path: Path, keys: SigningKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "published.pem"
    key_file.write_text(public_key_pem(keys.current.public_key))
    assert main([str(bundle), "--key", str(key_file)]) == 0
    out = capsys.readouterr().out
    assert "OK: the bundle is intact" in out
    broken = with_file(bundle, tmp_path, "README.txt", b"changed")
    assert main([str(broken), "--key", str(key_file)]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM: README.txt: SHA-256 mismatch" in out
    assert "FAILED: 1 problem(s) found" in out


def test_cli_accepts_the_keys_endpoint_json(
    bundle: Path, tmp_path: Path, keys: SigningKeys
) -> None:
    rotated = keys.rotate()
    doc = {"manifest_keys": [{"public_key_pem": k.public_key_pem} for k in rotated.public_keys()]}
    key_file = tmp_path / "keys.json"
    key_file.write_text(json.dumps(doc))
    assert len(load_public_keys(key_file.read_bytes())) == 2
    result = subprocess.run(
        [sys.executable, "-m", "app.exports.bundle.verify", str(bundle), "--key", str(key_file)],
        cwd=ROOT,
        capture_output=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_streamed_bundle_round_trip_has_identical_verification(
    tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys
) -> None:
    with (tmp_path / "s.zip").open("wb") as fh:
        write_bundle(
            fh,
            summary=diary.summary(),
            exhibits=evidence.exhibits,
            open_evidence=evidence.open,
            chain=chain_for(diary, evidence),
            identification="J.S.",
            keys=keys,
            generated_at=GENERATED_AT,
        )
    assert verify_bundle(tmp_path / "s.zip", [keys.current.public_key]).ok
