"""The viewer in a real browser: headless Chromium (Debian's) driven by Playwright, against a
live uvicorn server: passcode, summary, timeline, exhibits with their hashes, the PDF and an
exhibit downloaded, then the link revoked. Screenshots are kept under test-artifacts/.

Chromium missing is a failure in CI (CI=true) and a skip elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, ROOT, LiveServer
from tests.diary.support import incident_body, subject_body
from tests.evidence.support import jpeg_with_exif, multipart
from tests.sharing.shares_support import PASSCODE, share_body

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> Any:
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed (pip install playwright)"
    if missing is None and not (Path(CHROMIUM).exists() and shutil.which(CHROMIUM)):
        missing = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if missing is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the browser test cannot run in CI: {missing}")
        pytest.skip(missing)
    return sync_playwright


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_playwright = _require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _victim_with_a_share(base: str) -> tuple[dict[str, str], dict[str, Any], bytes]:
    with httpx.Client(base_url=base, timeout=30) as api:
        body = {"username": "browser-victim", "password": PASSWORD}
        created = api.post("/v1/accounts", json=body)
        assert created.status_code == 201
        username = created.json()["username"]
        token = api.post("/v1/auth/token", json={"username": username, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        subject = api.post("/v1/subjects", headers=auth, json=subject_body()).json()
        for day, behaviours, text in (
            (3, ["loitering"], "He stood across the road from the flat for an hour."),
            (11, ["contacting", "threat_of_violence"], "Forty calls overnight; he said I'd pay."),
            (19, ["turning_up_at_work"], "He was waiting by my car after my shift."),
        ):
            body = incident_body(
                occurred_at=f"2024-05-{day:02d}T21:15:00Z",
                behaviours=behaviours,
                subject_ids=[subject["id"]],
                description=text,
                impact={"fear_of_violence": day > 3},
            )
            created = api.post("/v1/incidents", headers=auth, json=body)
            assert created.status_code == 201
        photo = jpeg_with_exif()
        fields = {"caption": "His car outside my work", "incident_ids": created.json()["id"]}
        uploaded = multipart(api, auth, photo, name="car.jpg", fields=fields)
        assert uploaded.status_code == 201, uploaded.text
        body = share_body(passcode=PASSCODE, scope={"include_evidence": True})
        share = api.post("/v1/shares", headers=auth, json=body)
        assert share.status_code == 201, share.text
        return auth, share.json(), photo


def test_an_officer_opens_reads_downloads_and_loses_a_revoked_link(
    live_server: LiveServer, browser: Any
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    auth, share, photo = _victim_with_a_share(live_server.url)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()

    opened = page.goto(share["url"])
    assert opened is not None and opened.status == 200
    assert page.locator("h1").inner_text() == "Enter the passcode"
    page.screenshot(path=str(ARTIFACTS / "viewer-1-passcode.png"), full_page=True)

    page.get_by_label("Passcode").fill("not the passcode")
    page.keyboard.press("Enter")  # the form works from the keyboard alone
    page.wait_for_load_state()
    assert "That passcode is not right" in page.get_by_role("alert").inner_text()

    page.get_by_label("Passcode").fill(PASSCODE)
    page.get_by_role("button", name="Open the chronology").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Stalking — course of conduct by ")
    assert page.get_by_role("heading", name="Risk markers").is_visible()
    risk = page.locator("#risk .risk").inner_text()
    assert risk.startswith("Stalking") and "is indicated for" in risk
    # Risk markers come before the downloads.
    headings = page.locator("h2").all_inner_texts()
    assert headings.index("Risk markers") < headings.index("Downloads")
    assert page.get_by_role("img", name="Incidents per week").count() == 1
    table = page.get_by_role("table").filter(has_text="What happened")
    assert table.get_by_role("row").count() == 4  # the header and three incidents
    assert "Forty calls overnight" in table.inner_text()
    page.screenshot(path=str(ARTIFACTS / "viewer-2-summary.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "viewer-3-print.png"), full_page=True)
    page.emulate_media(media="screen")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="The chronology as a signed PDF").click()
    pdf = ARTIFACTS / "viewer-chronology.pdf"
    download_info.value.save_as(str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    exhibits = page.get_by_role("table").filter(has_text="SHA-256")
    assert hashlib.sha256(photo).hexdigest() in exhibits.inner_text()
    with page.expect_download() as download_info:
        # The exhibit table's link downloads; the incident row's link jumps to that row.
        exhibits.get_by_role("link", name="EX-001").click()
    exhibit = ARTIFACTS / "viewer-exhibit-EX-001.jpg"
    download_info.value.save_as(str(exhibit))
    assert exhibit.read_bytes() == photo

    with httpx.Client(base_url=live_server.url, headers=auth) as api:
        assert api.delete(f"/v1/shares/{share['id']}").status_code == 204
    gone = page.goto(share["url"])
    assert gone is not None and gone.status == 410
    assert page.locator("h1").inner_text() == "This link is not available"
    page.screenshot(path=str(ARTIFACTS / "viewer-4-revoked.png"), full_page=True)
    context.close()

    with httpx.Client(base_url=live_server.url, headers=auth) as api:
        accesses = api.get(f"/v1/shares/{share['id']}/accesses").json()["items"]
        trail = api.get("/v1/audit?action=share.accessed").json()["items"]
    assert [(a["action"], a["what"]) for a in accesses] == [
        ("share.accessed", "exhibit EX-001"),
        ("share.accessed", "chronology.pdf"),
        ("share.accessed", "summary"),
        ("share.passcode_failed", "passcode"),
    ]
    assert all("HeadlessChrome" in (a["user_agent"] or "") for a in accesses)
    assert [e["details"]["what"] for e in trail] == ["exhibit EX-001", "chronology.pdf", "summary"]
    assert share["token"] not in live_server.log_text()
