"""The export bundle: one zip an officer can verify offline with standard tools.

Contents (every name is fixed or built by `safe_file_name`, so no entry can escape the folder
it is unpacked into):
- `chronology.pdf`   the signed PDF (app.exports.pdf);
- `chronology.json`  the same summary as JSON (app.chronology.schemas.Summary);
- `evidence/EX-001-<name>` every exhibit, bit for bit as received, streamed in chunks and
  checked against the SHA-256 and size recorded on receipt (a mismatch aborts the export);
- `chain.json`       the caller's chain document: `{"events": [...], "revisions": [...]}`,
  the events as in docs/integrity.md (seq, prev_hash, kind, object_id, revision, occurred_at,
  recorded_at, content_sha256, hash) and, for incident and subject revisions, `{object_id,
  revision, salt, content}` (salt hex and canonical content, or both null once erased), so
  the chain and every commitment can be recomputed without the server's keys;
- `README.txt`       what the files are and how to check them;
- `manifest.json`    format, generated_at, the signing key id and fingerprint, the chain head,
  and every file above with its size and SHA-256 (and, for exhibits, number and evidence id);
- `SHA256SUMS`       `sha256sum -c` format: every file above plus manifest.json;
- `manifest.sig`     the raw 64-byte Ed25519 signature over the exact bytes of manifest.json,
  `manifest.sig.b64` the same in base64, and `signing-key.pem` the public key (SPKI PEM).

Nothing but the current exhibit's chunk is held in memory: files are hashed as they are
written, and the zip is written to a seekable or a streaming destination.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

from app.chronology.schemas import Summary
from app.crypto.signing import MANIFEST_ALGORITHM, SigningKeys, key_fingerprint, public_key_pem
from app.evidence.exhibits import Exhibit
from app.exports.bundle.names import (
    CHAIN,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    PDF,
    PUBLIC_KEY,
    README,
    SIGNATURE,
    SIGNATURE_B64,
    SUMMARY,
    SUMS,
)
from app.exports.model import ChainHead
from app.exports.pdf import export_pdf
from app.integrity.canonical import GENESIS_HASH
from app.risk.schemas import RiskScreening

EvidenceOpener = Callable[[Exhibit], Iterable[bytes]]


class BundleError(RuntimeError):
    """The bundle cannot be made truthfully (e.g. an evidence file is not what was recorded)."""


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BundleResult:
    manifest: bytes
    key_id: str
    signature: bytes
    files: list[FileEntry]
    chain_head: ChainHead


def chain_head_of(chain: Mapping[str, Any]) -> ChainHead:
    """The head of a chain document: its event count and last event's hash."""
    events = chain.get("events")
    if not isinstance(events, list):
        raise BundleError("the chain document has no `events` list")
    if not events:
        return ChainHead(length=0, hash=GENESIS_HASH)
    return ChainHead(length=len(events), hash=str(events[-1]["hash"]))


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


class _Writer:
    """Adds entries to the zip, recording each one's size and SHA-256."""

    def __init__(self, archive: zipfile.ZipFile, stamp: tuple[int, int, int, int, int, int]):
        self.archive = archive
        self.stamp = stamp
        self.entries: list[FileEntry] = []

    def _info(self, path: str, compress: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=self.stamp)
        info.compress_type = compress
        info.external_attr = 0o644 << 16
        return info

    def add(self, path: str, data: bytes, *, record: bool = True) -> FileEntry:
        self.archive.writestr(self._info(path, zipfile.ZIP_DEFLATED), data)
        entry = FileEntry(path, len(data), hashlib.sha256(data).hexdigest())
        if record:
            self.entries.append(entry)
        return entry

    def stream(self, path: str, chunks: Iterable[bytes]) -> FileEntry:
        digest, size = hashlib.sha256(), 0
        # Evidence is mostly already compressed (photos, video, audio): stored, not deflated.
        with self.archive.open(self._info(path, zipfile.ZIP_STORED), "w", force_zip64=True) as fh:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                fh.write(chunk)
        entry = FileEntry(path, size, digest.hexdigest())
        self.entries.append(entry)
        return entry


def _readme(head: ChainHead, key_id: str) -> bytes:
    return (
        "Chronicle export bundle\n\n"
        "chronology.pdf   the course-of-conduct chronology, signed (PAdES)\n"
        "chronology.json  the same summary as JSON\n"
        "evidence/        every exhibit, bit for bit as received\n"
        "chain.json       the diary's hash chain, with what is needed to recompute it\n"
        "manifest.json    every file's size and SHA-256, the chain head, the signing key id\n"
        "SHA256SUMS       the same hashes for `sha256sum --strict -c SHA256SUMS`\n"
        "manifest.sig     Ed25519 signature over manifest.json (manifest.sig.b64: base64)\n"
        "signing-key.pem  the public key; compare it with the one the service publishes\n\n"
        "Check:\n"
        "  sha256sum --strict -c SHA256SUMS\n"
        "  openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin "
        "-in manifest.json -sigfile manifest.sig\n"
        "  pdfsig chronology.pdf\n\n"
        f"Chain head: {head.length} events, {head.hash}\n"
        f"Signing key: {key_id}\n"
    ).encode()


def _check_exhibits(exhibits: Sequence[Exhibit]) -> None:
    paths = [e.bundle_path for e in exhibits]
    if len(set(paths)) != len(paths) or len({e.number for e in exhibits}) != len(exhibits):
        raise BundleError("exhibit numbers must be unique")


def _write(
    archive: zipfile.ZipFile,
    *,
    summary: Summary,
    exhibits: Sequence[Exhibit],
    open_evidence: EvidenceOpener,
    chain: Mapping[str, Any],
    head: ChainHead,
    pdf: bytes,
    keys: SigningKeys,
    generated_at: datetime,
) -> BundleResult:
    stamp = generated_at.astimezone(UTC).timetuple()[:6]
    writer = _Writer(archive, (max(stamp[0], 1980), *stamp[1:6]))  # zip dates start in 1980
    writer.add(PDF, pdf)
    writer.add(SUMMARY, summary.model_dump_json(indent=2).encode() + b"\n")
    writer.add(CHAIN, _json_bytes(chain))
    writer.add(README, _readme(head, keys.current_id))
    exhibit_docs = []
    for exhibit in exhibits:
        entry = writer.stream(exhibit.bundle_path, open_evidence(exhibit))
        if (entry.sha256, entry.size) != (exhibit.sha256, exhibit.size):
            raise BundleError(
                f"exhibit {exhibit.number}: the stored file does not match the SHA-256 and "
                "size recorded on receipt"
            )
        exhibit_docs.append(
            {
                "number": exhibit.number,
                "evidence_id": str(exhibit.evidence_id),
                "path": entry.path,
                "media_type": exhibit.media_type,
                "size": entry.size,
                "sha256": entry.sha256,
            }
        )
    public = keys.current.public_key
    manifest = _json_bytes(
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "generated_at": utc_text(generated_at),
            "signing_key_id": keys.current_id,
            "signing_algorithm": MANIFEST_ALGORITHM,
            "signing_key_sha256": key_fingerprint(public),
            "chain_head": {"length": head.length, "hash": head.hash},
            "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in writer.entries],
            "exhibits": exhibit_docs,
        }
    )
    key_id, signature = keys.sign_manifest(manifest)
    listed = list(writer.entries)
    manifest_entry = writer.add(MANIFEST, manifest, record=False)
    sums = "".join(f"{e.sha256}  {e.path}\n" for e in [*listed, manifest_entry])
    writer.add(SUMS, sums.encode(), record=False)
    writer.add(SIGNATURE, signature, record=False)
    writer.add(SIGNATURE_B64, base64.b64encode(signature) + b"\n", record=False)
    writer.add(PUBLIC_KEY, public_key_pem(public).encode(), record=False)
    return BundleResult(manifest, key_id, signature, listed, head)


def write_bundle(
    destination: Path | IO[bytes],
    *,
    summary: Summary,
    exhibits: Sequence[Exhibit],
    open_evidence: EvidenceOpener,
    chain: Mapping[str, Any],
    identification: str,
    keys: SigningKeys,
    generated_at: datetime | None = None,
    pdf: bytes | None = None,
    screening: RiskScreening | None = None,
) -> BundleResult:
    """Write the bundle to `destination` (a path, written atomically, or a binary stream).

    `open_evidence(exhibit)` yields the exhibit's plaintext in chunks; `pdf` may be passed
    when it was already rendered and signed (otherwise it is made here).
    """
    _check_exhibits(exhibits)
    head = chain_head_of(chain)
    generated_at = generated_at or datetime.now(UTC)
    if pdf is None:
        pdf = export_pdf(
            summary,
            exhibits,
            identification=identification,
            chain_head=head,
            keys=keys,
            screening=screening,
        )
    write = partial(
        _write,
        summary=summary,
        exhibits=exhibits,
        open_evidence=open_evidence,
        chain=chain,
        head=head,
        pdf=pdf,
        keys=keys,
        generated_at=generated_at,
    )
    if not isinstance(destination, Path):
        with zipfile.ZipFile(destination, "w") as archive:
            return write(archive)
    unfinished = destination.with_name(destination.name + ".partial")
    try:
        with zipfile.ZipFile(unfinished, "w") as archive:
            result = write(archive)
        os.replace(unfinished, destination)
    finally:
        unfinished.unlink(missing_ok=True)
    return result
