"""The PDF and the viewer render one presentation model: the same statements in each, UK local
time, stalking first, S-DASH, the order up front, no near-empty pages. Checked on the demo
diary, a one-incident diary and a 2,000-incident diary: the PDF read back with pdftotext and
drawn with pdftoppm, the viewer drawn by Chromium (Playwright). Images go to test-artifacts/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sharing.render_support import (
    Case,
    demo_case,
    html_text,
    many_case,
    one_incident_case,
    pdf_pages,
)
from tests.sharing.test_viewer_browser import ARTIFACTS, browser

__all__ = ["browser"]

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) is not installed",
)
CASES: dict[str, Callable[[], Case]] = {
    "demo": demo_case,
    "one": one_incident_case,
    "many": many_case,
}
LOCAL_TIME = re.compile(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d (BST|GMT)")
_built: dict[str, tuple[Case, list[str], str]] = {}


def rendered(name: str, tmp_path: Path) -> tuple[Case, list[str], str]:
    """(the case, the PDF's page texts, the viewer's HTML), built once per case."""
    if name not in _built:
        case = CASES[name]()
        pdf = case.pdf()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"render-{name}.pdf").write_bytes(pdf)
        _built[name] = (case, pdf_pages(pdf, tmp_path), case.html())
    return _built[name]


@needs_poppler
@pytest.mark.parametrize("name", list(CASES))
def test_the_pdf_and_the_viewer_make_the_same_statements(name: str, tmp_path: Path) -> None:
    case, pages, html = rendered(name, tmp_path)
    pdf_text, page_text = " ".join(pages), html_text(html)
    statements = case.model.statements()
    assert len(statements) > 10
    for statement in statements:
        assert statement in pdf_text, f"not in the PDF: {statement}"
        assert statement in page_text, f"not in the viewer: {statement}"
    for chart in case.model.charts:
        for text in (chart.title, chart.note):
            assert text in pdf_text and text in page_text
        for order in chart.orders:
            assert order.label in pdf_text and order.label in page_text
    for row in case.model.incidents[:50]:
        # A narrow PDF cell wraps, and pdftotext may interleave wrapped cells, so only the
        # day (the start of the first line) is sought in the PDF.
        assert row.when.split(",")[0] in pdf_text
        for text in (row.when, row.recorded, row.behaviours, row.effect, row.evidence):
            assert text in page_text, text
    for exhibit in case.model.exhibits:
        assert exhibit.sha256 in pdf_text and exhibit.sha256 in page_text


@needs_poppler
@pytest.mark.parametrize("name", list(CASES))
def test_what_an_officer_reads_first(name: str, tmp_path: Path) -> None:
    case, pages, html = rendered(name, tmp_path)
    page_text = html_text(html)
    first = pages[0]
    risk = case.model.section("risk").lines
    assert "Stalking" in risk[0].text  # think stalking first: indicated, or why not
    if case.summary.offences and any(o.indicated for o in case.summary.offences):
        assert case.model.title.startswith("Stalking — ")
    assert first.startswith(case.model.title)
    assert "Risk screening (S-DASH)" in page_text
    screening = case.model.section("screening").lines[0].text
    (heading_page,) = [n for n, p in enumerate(pages) if "Risk screening (S-DASH)" in p]
    assert heading_page <= 1 and screening in pages[heading_page]
    orders = [o for s in case.summary.subjects for o in s.orders]
    for order in orders:
        assert f"{order.kind.label}, served " in first
    assert page_text.index("Risk markers") < page_text.index("Downloads")
    for text in (" ".join(pages), page_text):
        assert LOCAL_TIME.search(text)
        assert "UTC" not in text and "+00:00" not in text
        assert "chain of " not in text[: text.index("Headline facts")]


@needs_poppler
@pytest.mark.parametrize("name", list(CASES))
def test_no_page_is_almost_empty_but_the_last(name: str, tmp_path: Path) -> None:
    _, pages, _ = rendered(name, tmp_path)
    short = [n for n, text in enumerate(pages[:-1], start=1) if len(text.split()) < 40]
    assert short == [], f"pages under 40 words: {short}"


def test_each_sentence_once_and_times_local() -> None:
    case = demo_case()
    statements = case.model.statements()
    course = case.summary.course_of_conduct[0].statement.text
    gaps = case.summary.gaps.overall.statement.text
    assert sum(course in s for s in statements) == 1
    assert sum(gaps in s for s in statements) == 1
    assert "BST" in case.model.incidents[0].when  # 21:10 in July is BST
    assert case.model.incidents[0].when.startswith("6 July 2026, 21:10 BST")
    tied = {row.number: row.exhibits for row in case.model.incidents if row.exhibits}
    assert tied == {8: ("EX-001",), 12: ("EX-002",), 23: ("EX-003",)}
    assert [e.incident for e in case.model.exhibits] == [8, 12, 23]
    (timeline, _) = case.model.charts
    assert timeline.numbered and [d.number for d in timeline.dots] == list(range(1, 25))
    assert [o.label for o in timeline.orders] == ["Non-molestation order served 31 August 2026"]


@needs_poppler
@pytest.mark.parametrize("name", list(CASES))
def test_page_one_of_the_pdf_as_an_image(name: str, tmp_path: Path) -> None:
    rendered(name, tmp_path)
    prefix = ARTIFACTS / f"render-{name}-pdf"
    pdf = ARTIFACTS / f"render-{name}.pdf"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(prefix)], check=True
    )
    images = sorted(ARTIFACTS.glob(f"render-{name}-pdf-*.png"))
    assert images and all(image.stat().st_size > 5000 for image in images)


@needs_poppler
@pytest.mark.parametrize("name", list(CASES))
def test_the_viewer_in_chromium(name: str, browser: Any, tmp_path: Path) -> None:
    case, pages, html = rendered(name, tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.set_content(html, wait_until="load")
        page.screenshot(path=str(ARTIFACTS / f"render-{name}-viewer-1.png"))
        if name != "many":
            page.screenshot(path=str(ARTIFACTS / f"render-{name}-viewer.png"), full_page=True)
        seen = " ".join(page.inner_text("main").split())
        first_screen = " ".join(
            page.evaluate(
                "() => [...document.querySelectorAll('main *')]"
                ".filter(e => e.getBoundingClientRect().top < 900 && e.children.length === 0)"
                ".map(e => e.textContent).join(' ')"
            ).split()
        )
        dots = page.locator("#chart-timeline g.dot").count()
        order_lines = page.locator("#chart-timeline line.order").count()
    finally:
        page.close()
    pdf_text = " ".join(pages)
    for statement in case.model.statements():
        assert statement in seen, f"not in the viewer: {statement}"
        assert statement in pdf_text
    assert case.model.title in first_screen and "Risk markers" in first_screen
    assert seen.index("Risk markers") < seen.index("Downloads")
    assert dots == len(case.model.incidents)
    assert order_lines == len(case.model.charts[0].orders)
    if case.model.charts[0].numbered:
        numbers = page_numbers(html)
        assert numbers == list(range(1, len(case.model.incidents) + 1))


def page_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<text class="number"[^>]*>(\d+)</text>', html)]
