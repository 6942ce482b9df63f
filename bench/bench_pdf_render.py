"""The officer's PDF for a 2,000-incident diary beside the demo diary's (24 incidents).

Each PDF is built (presentation model, layout, signature) in a fresh process, so its time and
its peak resident set are its own: the baseline is the demo diary's PDF, measured in the same
run on the same machine. Also timed: building the presentation model alone for each.

Run: python -m bench.bench_pdf_render   (or `make bench`; BENCH_INCIDENTS shrinks the large one)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import time
from datetime import timedelta
from typing import NamedTuple

from app.chronology.presentation import build_presentation
from app.chronology.summary import build_summary
from app.crypto.signing import SigningKeys
from app.demo import facts as demo_facts
from app.exports.model import ChainHead
from app.exports.pdf import export_pdf
from bench.bench_exports import diary as large_diary
from bench.bench_exports import exhibits as large_exhibits

INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", "2000"))
HEAD = ChainHead(length=1, hash="ab" * 32)


class Figures(NamedTuple):
    model_s: float
    pdf_s: float  # wall clock
    pdf_cpu_s: float  # this process's CPU: what the PDF costs on a machine other work shares
    peak_mib: float
    size: int
    incidents: int


def _render(which: str) -> Figures:
    """One diary's figures, measured in this process."""
    if which == "demo":
        incidents, subjects = demo_facts()
        items = []
    else:
        incidents, subjects = large_diary()
        items = large_exhibits(incidents)
    generated = incidents[-1].recorded_at + timedelta(days=1)
    summary = build_summary(incidents, subjects, generated_at=generated)
    keys = SigningKeys.generate()
    started = time.perf_counter()
    build_presentation(summary, items)
    model_s = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    pdf = export_pdf(summary, items, identification="J.S.", chain_head=HEAD, keys=keys)
    pdf_s, pdf_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Figures(model_s, pdf_s, pdf_cpu_s, peak, len(pdf), len(incidents))


def _in_child(which: str) -> Figures:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_render, (which,))


def measure() -> list[str]:
    os.environ.setdefault("BENCH_INCIDENTS", str(INCIDENTS))
    demo = _in_child("demo")
    large = _in_child("large")
    lines = [f"officer PDF: the demo diary ({demo.incidents} incidents) against {large.incidents}"]
    for name, f in (("demo (baseline)", demo), ("large", large)):
        lines.append(
            f"  {name:16} model {f.model_s * 1000:7.1f} ms  signed PDF {f.pdf_s:6.2f} s "
            f"(CPU {f.pdf_cpu_s:6.2f} s)  peak RSS {f.peak_mib:6.1f} MiB  "
            f"PDF {f.size / 2**20:5.2f} MiB"
        )
    ratio = {name: getattr(large, name) / getattr(demo, name) for name in Figures._fields}
    lines.append(
        f"  ratio large/demo for {ratio['incidents']:.0f}x the incidents: "
        f"PDF time {ratio['pdf_s']:5.1f}x (CPU {ratio['pdf_cpu_s']:5.1f}x), "
        f"model {ratio['model_s']:5.1f}x, peak RSS {ratio['peak_mib']:4.2f}x"
    )
    return lines


async def run() -> None:
    for line in await asyncio.to_thread(measure):
        print(line)


if __name__ == "__main__":
    asyncio.run(run())
