"""Offline verification of an export bundle: `python -m app.cli verify BUNDLE.zip [--key K]`.

Needs no server, database or key ring: only the bundle and, ideally, the service's published
public key(s) (`--key`: a PEM file, or the JSON answer of GET /v1/keys). It checks, and
reports every problem by file name:
1. the zip: readable, no unsafe or duplicate names (zip-slip);
2. the signature: manifest.sig verifies over manifest.json with a trusted key (or, without
   one, with the bundle's own signing-key.pem, which is then only self-consistent: say so);
   manifest.sig.b64 matches manifest.sig; signing-key.pem is the key the manifest names;
3. the files: each listed file is present with the listed size and SHA-256, nothing unlisted
   is present, and SHA256SUMS agrees with the files;
4. the chain: chain.json's links (and commitments, when carried) verify, its head is the one
   the manifest states, and every exhibit's SHA-256 is the one its evidence event records.
Files are hashed as they are read; nothing is extracted to disk.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.crypto.signing import key_fingerprint
from app.exports.bundle.names import (
    CHAIN,
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    SIGNATURE_B64,
    SUMS,
    UNLISTED,
)
from app.exports.chain_check import check_chain_document, evidence_events

SMALL_FILE_LIMIT = 256 * 1024 * 1024  # manifest, chain.json and the like are read whole
CHUNK = 1024 * 1024


@dataclass
class VerifyReport:
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    key_id: str | None = None
    chain_length: int | None = None
    chain_head: str | None = None
    files_checked: int = 0


def _unsafe(name: str) -> bool:
    parts = name.split("/")
    return (
        not name
        or name.startswith("/")
        or "\\" in name
        or ":" in name
        or any(part in ("", ".", "..") for part in parts)
        or any(ord(c) < 0x20 for c in name)
    )


def _digest(archive: zipfile.ZipFile, name: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _small(archive: zipfile.ZipFile, name: str) -> bytes | None:
    info = archive.getinfo(name)
    if info.file_size > SMALL_FILE_LIMIT:
        return None
    with archive.open(info) as fh:
        return fh.read(SMALL_FILE_LIMIT + 1)[:SMALL_FILE_LIMIT]


def load_public_keys(data: bytes) -> list[Ed25519PublicKey]:
    """Ed25519 keys from PEM text (one or more keys) or from GET /v1/keys' JSON answer."""
    text = data.decode("utf-8", "replace").strip()
    pems: list[str] = []
    if text.startswith("{"):
        doc = json.loads(text)
        pems = [str(k["public_key_pem"]) for k in doc.get("manifest_keys", [])]
    else:
        marker = "-----END PUBLIC KEY-----"
        pems = [block + marker for block in text.split(marker) if block.strip()]
    keys = []
    for pem in pems:
        key = serialization.load_pem_public_key(pem.strip().encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        keys.append(key)
    if not keys:
        raise ValueError("no public key found")
    return keys


def _verifies(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


class _Check:
    def __init__(self, archive: zipfile.ZipFile, report: VerifyReport) -> None:
        self.archive = archive
        self.report = report
        self.names = [i.filename for i in archive.infolist() if not i.is_dir()]

    def problem(self, text: str) -> None:
        self.report.problems.append(text)

    def read(self, name: str) -> bytes | None:
        if name not in self.names:
            self.problem(f"listed file missing: {name}")
            return None
        data = _small(self.archive, name)
        if data is None:
            self.problem(f"{name}: too large to be a genuine {name}")
        return data

    def names_are_safe(self) -> None:
        seen: set[str] = set()
        for name in self.names:
            if _unsafe(name):
                self.problem(f"unsafe file name in the zip: {name!r}")
            if name in seen:
                self.problem(f"file appears twice in the zip: {name}")
            seen.add(name)

    def signature(
        self, manifest: bytes, doc: dict[str, Any], trusted: Sequence[Ed25519PublicKey] | None
    ) -> None:
        key_id = str(doc.get("signing_key_id", "(none named)"))
        self.report.key_id = key_id
        signature = self.read(SIGNATURE)
        encoded = self.read(SIGNATURE_B64)
        pem = self.read(PUBLIC_KEY)
        if signature is not None and encoded is not None:
            try:
                if base64.b64decode(encoded.strip(), validate=True) != signature:
                    self.problem(f"{SIGNATURE_B64} is not the base64 of {SIGNATURE}")
            except binascii.Error:
                self.problem(f"{SIGNATURE_B64} is not valid base64")
        bundled: Ed25519PublicKey | None = None
        if pem is not None:
            try:
                bundled = load_public_keys(pem)[0]
            except ValueError:
                self.problem(f"{PUBLIC_KEY} is not an Ed25519 public key")
        if bundled is not None and key_fingerprint(bundled) != doc.get("signing_key_sha256"):
            self.problem(f"{PUBLIC_KEY} is not the key the manifest names ({key_id})")
        if signature is None:
            return
        if trusted:
            if not any(_verifies(k, signature, manifest) for k in trusted):
                self.problem(
                    f"{SIGNATURE} does not verify with any trusted key (the manifest names "
                    f"key {key_id}): {MANIFEST} was changed or signed by another key"
                )
            elif bundled is not None and not any(
                key_fingerprint(k) == key_fingerprint(bundled) for k in trusted
            ):
                self.report.notes.append(f"{PUBLIC_KEY} is not one of the trusted keys")
            return
        if bundled is not None and not _verifies(bundled, signature, manifest):
            self.problem(
                f"{SIGNATURE} does not verify with key {key_id} ({PUBLIC_KEY}): "
                f"{MANIFEST} was changed or signed by another key"
            )
        self.report.notes.append(
            f"the signature was checked with the bundle's own {PUBLIC_KEY} only: compare its "
            "fingerprint with the key the service publishes (GET /v1/keys), or pass --key"
        )

    def files(self, doc: dict[str, Any]) -> None:
        """Each listed file is present with its size and SHA-256; nothing else is present."""
        listed: dict[str, dict[str, Any]] = {}
        for item in doc.get("files", []):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                listed[item["path"]] = item
        for path, item in listed.items():
            if path not in self.names:
                self.problem(f"listed file missing: {path}")
                continue
            size, sha = _digest(self.archive, path)
            self.report.files_checked += 1
            if sha != item.get("sha256"):
                self.problem(
                    f"{path}: SHA-256 mismatch (manifest says {item.get('sha256')}, file is {sha})"
                )
            elif size != item.get("size"):
                self.problem(
                    f"{path}: size mismatch (manifest says {item.get('size')}, file is {size})"
                )
        for name in self.names:
            if name not in listed and name not in UNLISTED:
                self.problem(f"file not listed in manifest: {name}")

    def sums(self, doc: dict[str, Any], manifest: bytes) -> None:
        """SHA256SUMS must say what the signed manifest says (files are checked against it)."""
        data = self.read(SUMS)
        if data is None:
            return
        expected = {
            str(item.get("path")): str(item.get("sha256"))
            for item in doc.get("files", [])
            if isinstance(item, dict)
        }
        expected[MANIFEST] = hashlib.sha256(manifest).hexdigest()
        seen: set[str] = set()
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            sha, sep, path = line.partition("  ")
            if not sep or path not in expected:
                self.problem(f"{SUMS}: line {number} is not a line for a file of the bundle")
                continue
            seen.add(path)
            if sha != expected[path]:
                source = "the file is" if path == MANIFEST else f"{MANIFEST} says"
                self.problem(f"{SUMS}: the line for {path} says {sha}, {source} {expected[path]}")
        for path in sorted(set(expected) - seen):
            self.problem(f"{SUMS}: no line for {path}")

    def chain(self, doc: dict[str, Any]) -> None:
        """chain.json verifies, ends at the manifest's head, and records every exhibit."""
        data = self.read(CHAIN)
        if data is None:
            return
        try:
            chain = json.loads(data)
        except ValueError:
            self.problem("chain.json: not valid JSON")
            return
        result = check_chain_document(chain)
        self.report.problems.extend(result.problems)
        self.report.chain_length, self.report.chain_head = result.length, result.head
        if not result.content_checked:
            self.report.notes.append("chain.json carries no revisions: commitments not checked")
        head = doc.get("chain_head") or {}
        if not result.problems and (head.get("length"), head.get("hash")) != (
            result.length,
            result.head,
        ):
            self.problem(
                f"chain.json: the chain ends at seq {result.length} ({result.head}), but "
                f"{MANIFEST} states {head.get('length')} ({head.get('hash')})"
            )
        recorded = evidence_events(chain)
        listed = {
            str(item.get("path")): item.get("sha256")
            for item in doc.get("files", [])
            if isinstance(item, dict)
        }
        for exhibit in doc.get("exhibits", []):
            path = str(exhibit.get("path"))
            try:
                evidence_id = UUID(str(exhibit.get("evidence_id")))
            except ValueError:
                self.problem(f"{path}: the manifest gives no valid evidence id")
                continue
            sha = str(exhibit.get("sha256"))
            if sha != listed.get(path):
                self.problem(f"{MANIFEST}: exhibit {path} is not listed with the same SHA-256")
            elif sha not in recorded.get(evidence_id, ()):
                self.problem(
                    f"{path}: no evidence event in chain.json records this file's SHA-256 "
                    f"for evidence {evidence_id}"
                )


def verify_bundle(
    path: Path, trusted_keys: Sequence[Ed25519PublicKey] | None = None
) -> VerifyReport:
    """Check everything in the module docstring; `ok` only if no problem was found."""
    report = VerifyReport()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"{path}: not a readable zip file ({exc})")
        return report
    with archive:
        check = _Check(archive, report)
        check.names_are_safe()
        manifest = check.read(MANIFEST)
        if manifest is None:
            return report
        try:
            doc = json.loads(manifest)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except ValueError:
            report.problems.append(f"{MANIFEST}: not valid JSON")
            doc = {}
        try:
            check.signature(manifest, doc, trusted_keys)
            check.files(doc)
            check.sums(doc, manifest)
            check.chain(doc)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            report.problems.append(f"the zip is damaged: {exc}")
    report.ok = not report.problems
    return report


def format_report(path: Path, report: VerifyReport) -> str:
    lines = [f"Bundle: {path}"]
    lines.append(f"Signing key: {report.key_id or 'unknown'}")
    if report.chain_length is not None:
        lines.append(f"Chain: {report.chain_length} events, head {report.chain_head or '?'}")
    lines.append(f"Files checked: {report.files_checked}")
    lines.extend(f"NOTE: {note}" for note in report.notes)
    lines.extend(f"PROBLEM: {problem}" for problem in report.problems)
    verdict = "OK: the bundle is intact" if report.ok else f"FAILED: {len(report.problems)} "
    lines.append(verdict if report.ok else verdict + "problem(s) found")
    return "\n".join(lines)


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("bundle", type=Path, help="the export bundle (.zip)")
    parser.add_argument(
        "--key",
        action="append",
        type=Path,
        default=[],
        help="a trusted public key: signing-key PEM, or the JSON of GET /v1/keys (repeatable)",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    trusted: list[Ed25519PublicKey] = []
    for key_path in args.key:
        try:
            trusted.extend(load_public_keys(key_path.read_bytes()))
        except (OSError, ValueError) as exc:
            print(f"cannot use --key {key_path}: {exc}", file=sys.stderr)
            return 2
    report = verify_bundle(args.bundle, trusted or None)
    print(format_report(args.bundle, report))
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.cli verify", description="Verify a Chronicle export bundle offline."
    )
    args = configure_parser(parser).parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
