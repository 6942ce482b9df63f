"""Exports of a 2,000-incident diary with 200 exhibits: the signed PDF and the streamed bundle.

Baselines, measured in the same run: building the summary the PDF is made from, writing the
same summary and exhibit list as JSON, and (for the bundle) hashing and writing the same
evidence bytes to a plain file, the floor any bundle writer pays. Peak memory: tracemalloc in a
separate pass for the bundle; for the PDF (which tracemalloc would slow tenfold) the growth of
the process's peak resident set during the timed run.

Run: python -m bench.bench_exports   (or `make bench`; BENCH_INCIDENTS / BENCH_EXHIBITS shrink it)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, uuid5

from app.chronology.model import IncidentFacts, Order, SubjectFacts
from app.chronology.schemas import Summary
from app.chronology.summary import build_summary
from app.crypto.signing import SigningKeys
from app.evidence.exhibits import Exhibit
from app.exports.bundle.write import write_bundle
from app.exports.model import ChainHead
from app.exports.pdf import export_pdf

INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", "2000"))
EXHIBITS = int(os.environ.get("BENCH_EXHIBITS", "200"))
EXHIBIT_BYTES = 256 * 1024
CHUNK = 64 * 1024
BEHAVIOURS = [
    ["contacting"],
    ["loitering", "watching_or_spying"],
    ["turning_up_at_home"],
    ["damage_to_property"],
    ["following"],
    ["threat_of_violence"],
    ["third_party_contact"],
]
WORDS = [
    "he",
    "was",
    "outside",
    "the",
    "flat",
    "again",
    "watching",
    "from",
    "the",
    "car",
    "and",
    "would",
    "not",
    "leave",
]
T = TypeVar("T")


def diary() -> tuple[list[IncidentFacts], list[SubjectFacts]]:
    rng = random.Random(2026)
    subject = SubjectFacts(
        id=uuid5(NAMESPACE_URL, "bench:subject"),
        label="Daniel",
        relationship="ex_partner",
        orders=(Order("non_molestation_order", datetime(2024, 6, 1).date(), None, "No contact"),),
    )
    start = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
    incidents = []
    for n in range(INCIDENTS):
        occurred = start + timedelta(hours=13 * n + rng.randint(0, 6))
        incidents.append(
            IncidentFacts(
                id=uuid5(NAMESPACE_URL, f"bench:incident:{n}"),
                occurred_at=occurred,
                precision="exact",
                recorded_at=occurred + timedelta(minutes=rng.randint(5, 600)),
                behaviours=tuple(rng.choice(BEHAVIOURS)),
                subject_ids=(subject.id,),
                channel="in_person",
                location="Outside the flat",
                description=" ".join(rng.choices(WORDS, k=rng.randint(20, 120))),
                alarm_or_distress=n % 3 == 0,
                fear_of_violence=n % 17 == 0,
                reported_to_police=n % 40 == 0,
                police_references=(f"CR/{n}/24",) if n % 40 == 0 else (),
            )
        )
    return incidents, [subject]


def exhibit_chunks(number: int) -> Iterator[bytes]:
    block = random.Random(number).randbytes(CHUNK)
    for _ in range(EXHIBIT_BYTES // CHUNK):
        yield block


def exhibits(incidents: list[IncidentFacts]) -> list[Exhibit]:
    found = []
    for n in range(1, EXHIBITS + 1):
        digest = hashlib.sha256()
        for chunk in exhibit_chunks(n):
            digest.update(chunk)
        found.append(
            Exhibit(
                number=f"EX-{n:03d}",
                evidence_id=uuid5(NAMESPACE_URL, f"bench:evidence:{n}"),
                caption=f"Photograph {n} of the car outside the flat",
                media_type="image/jpeg",
                size=EXHIBIT_BYTES,
                sha256=digest.hexdigest(),
                captured_at=incidents[n * 7 % len(incidents)].occurred_at,
                received_at=incidents[n * 7 % len(incidents)].recorded_at,
                file_name=f"IMG_{n:04d}.jpg",
                incident_id=incidents[n * 7 % len(incidents)].id,
            )
        )
    return found


def timed(func: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def peak_mib(func: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def chain_document(items: list[Exhibit]) -> dict[str, Any]:
    """Events only (links are not re-verified when writing): one evidence.added per exhibit."""
    events = []
    prev = "0" * 64
    for seq, exhibit in enumerate(items, start=1):
        link = hashlib.sha256(f"{seq}{prev}".encode()).hexdigest()
        events.append(
            {
                "seq": seq,
                "kind": "evidence.added",
                "content_sha256": exhibit.sha256,
                "object_id": str(exhibit.evidence_id),
                "prev_hash": prev,
                "hash": link,
            }
        )
        prev = link
    return {"events": events}


def plain_write(path: Path, items: list[Exhibit]) -> None:
    with path.open("wb") as fh:
        for exhibit in items:
            digest = hashlib.sha256()
            for chunk in exhibit_chunks(int(exhibit.number[3:])):
                digest.update(chunk)
                fh.write(chunk)


def measure() -> list[str]:
    incidents, subjects = diary()
    items = exhibits(incidents)
    keys = SigningKeys.generate()
    now = datetime(2026, 5, 1, tzinfo=UTC)
    summary_s, summary = timed(lambda: build_summary(incidents, subjects, generated_at=now))
    json_s, _ = timed(lambda: _json(summary, items))
    head = ChainHead(len(items), "ab" * 32)

    def pdf() -> bytes:
        return export_pdf(summary, items, identification="J.S.", chain_head=head, keys=keys)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pdf_s, document = timed(pdf)
    pdf_peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    chain = chain_document(items)
    with tempfile.TemporaryDirectory() as tmp:
        floor_s, _ = timed(lambda: plain_write(Path(tmp) / "plain.bin", items))

        def bundle() -> None:
            write_bundle(
                Path(tmp) / "bundle.zip",
                summary=summary,
                exhibits=items,
                open_evidence=lambda e: exhibit_chunks(int(e.number[3:])),
                chain=chain,
                identification="J.S.",
                keys=keys,
                pdf=document,
            )

        bundle_s, _ = timed(bundle)
        bundle_peak = peak_mib(bundle)
    evidence_mib = EXHIBITS * EXHIBIT_BYTES / 2**20
    return [
        f"exports: {INCIDENTS} incidents, {EXHIBITS} exhibits ({evidence_mib:.0f} MiB), "
        f"PDF {len(document) / 2**20:.1f} MiB",
        f"  build_summary (baseline)            {summary_s * 1000:9.1f} ms",
        f"  summary + exhibits as JSON (baseline){json_s * 1000:8.1f} ms",
        f"  signed PDF export                   {pdf_s * 1000:9.1f} ms  "
        f"{pdf_s / summary_s:7.1f}x summary, {pdf_s / json_s:6.1f}x JSON; "
        f"peak RSS growth {pdf_peak:.1f} MiB",
        f"  hash + write evidence (floor)       {floor_s * 1000:9.1f} ms",
        f"  bundle (PDF given, evidence streamed){bundle_s * 1000:8.1f} ms  "
        f"{bundle_s / floor_s:7.2f}x floor; peak {bundle_peak:.1f} MiB for "
        f"{evidence_mib:.0f} MiB of evidence",
    ]


def _json(summary: Summary, items: list[Exhibit]) -> bytes:
    body = summary.model_dump(mode="json")
    body["exhibits"] = [{**e.__dict__, "evidence_id": str(e.evidence_id)} for e in items]
    return json.dumps(body, default=str).encode()


async def run() -> None:
    # PDF rendering and signing are CPU-bound and pyHanko runs its own event loop: a thread.
    for line in await asyncio.to_thread(measure):
        print(line)


if __name__ == "__main__":
    asyncio.run(run())
