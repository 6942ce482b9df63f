"""`make demo` loads its diary through the API of a real server and gets what an officer gets."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import httpx

from app import demo
from tests.conftest import LiveServer


def test_the_demo_diary_loads_and_yields_a_share_a_pdf_and_a_bundle(
    live_server: LiveServer, tmp_path: Path
) -> None:
    paths = demo.load(live_server.url, tmp_path / "out")
    pdf = Path(paths["pdf"])
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())  # table cells wrap
    assert "Mark Ellis" in flat
    # The first incident: 21:10 UK summer time, never the UTC 20:10.
    assert "6 July 2026, 21:10 BST" in flat and "6 July 2026, 20:10" not in flat
    with zipfile.ZipFile(paths["bundle"]) as bundle:
        assert any(name.endswith(".pdf") for name in bundle.namelist())
    viewer = httpx.get(paths["share_url"], timeout=30)
    assert viewer.status_code == 200 and "Mark Ellis" in viewer.text
    assert len(demo.INCIDENTS) == 24
