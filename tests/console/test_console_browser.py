"""The console in a real browser (Debian's Chromium, driven by Playwright) against a live
server: a caseworker signs in with TOTP, links a client with a code the client enters in the
API, reads the chronology, writes a note and drafts an incident the client then confirms,
reads that incident's revisions, records an S-DASH screening beside the diary's suggestions
and prepares an export for the client until it is ready; the client revokes the grant and
the next page load says access has ended; a summary-scope caseworker's pages carry no planted
diary marker. On every page axe-core (npm, from
tests/console/axe/package-lock.json) must report no serious or critical violation.
Screenshots go to test-artifacts/console-*.png.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, LiveServer, new_user
from tests.console.support import next_code
from tests.diary.support import full_incident_body
from tests.sharing.support import Staff, World, grant, in_days, link_code
from tests.sharing.test_viewer_browser import ARTIFACTS, browser

__all__ = ["browser"]
AXE_DIR = Path(__file__).parent / "axe"
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
MARKER = "CONSOLE-BROWSER-MARKER-77ab"


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=AXE_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE


def _check(page: Any, axe: Path, name: str) -> None:
    """A screenshot, and axe-core's serious and critical findings (there must be none)."""
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)
    page.add_script_tag(path=str(axe))
    results = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', "
        "'wcag21aa', 'wcag22aa', 'best-practice']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"
    )
    bad = [v for v in results if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{name}: {bad}"


def _sign_in(page: Any, base: str, staff: Staff) -> None:
    page.goto(f"{base}/console/sign-in")
    page.get_by_label("Username").fill(staff.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(next_code(staff))
    page.keyboard.press("Enter")  # the form works from the keyboard alone
    page.wait_for_url(re.compile(r"/console/(clients|organisation)$"))
    page.wait_for_load_state()


def _invited_caseworker(page: Any, base: str, world: World, axe: Path) -> pyotp.TOTP:
    """The org admin invites in the console; the newcomer joins, turns on 2FA, signs in."""
    _sign_in(page, base, world.org_admin)
    assert page.locator("h1").inner_text() == "Safe Haven"
    page.get_by_label("Invite a new member as").select_option("caseworker")
    page.get_by_role("button", name="Make an invitation code").click()
    page.wait_for_load_state()
    code = page.locator("#invitation-code code").inner_text()
    _check(page, axe, "01-organisation")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/console/sign-in$"))

    page.goto(f"{base}/console/join")
    page.get_by_label("Invitation code").fill(code)
    page.get_by_label("Your name, as clients will see it").fill("Robin Hale")
    page.get_by_label("Username you would like").fill("robin")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    _check(page, axe, "02-join")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_load_state()
    username = page.locator("#username code").inner_text()
    assert username.startswith("robin")
    _check(page, axe, "03-joined")

    page.goto(f"{base}/console/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile("/console/two-factor$"))
    _check(page, axe, "04-two-factor")
    page.get_by_role("button", name="Show me the key").click()
    page.wait_for_load_state()
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text())
    page.get_by_label("Code from your authenticator app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    page.wait_for_url(re.compile("/console/clients$"))
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/console/sign-in$"))
    # Signing in again needs the code too now.
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(totp.at(time.time() + 30))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/console/clients$"))
    return totp


def _revisions_screening_and_export(page: Any, axe: Path) -> None:
    """On the client's page (scope `assist`): the drafted incident's revisions, an S-DASH
    screening with the diary's suggestions beside it, and an export prepared for the client."""
    page.get_by_role("link", name="Incidents and their changes").click()
    page.wait_for_load_state()
    _check(page, axe, "10-incidents")
    page.get_by_role("link", name=re.compile("History: 2 revisions")).click()
    page.wait_for_load_state()
    assert page.locator("#revision-1 h2").inner_text() == "Revision 1: Written"
    amended = page.locator("#revision-2").inner_text()
    assert "Revision 2: Amended" in amended and "as I told Sam" in amended
    assert re.search(r"Recorded .* (GMT|BST)", amended)
    _check(page, axe, "11-revisions")
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "console-11-revisions-print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.get_by_role("link", name="S-DASH screening").click()
    page.wait_for_load_state()
    assert "The diary suggests: yes." in page.locator("#q5-suggestion").inner_text()
    assert page.locator("input[type=radio]:checked").count() == 0
    _check(page, axe, "12-screening")
    page.locator("#q1-yes").focus()
    page.keyboard.press("Space")  # a radio answered from the keyboard
    page.locator("#q5-yes").check()
    page.locator("#q5-context").fill("Outside her flat most evenings.")
    page.locator("#q10-unknown").check()
    page.get_by_role("button", name="Save the screening").click()
    page.wait_for_load_state()
    assert page.url.endswith("#screening")
    latest = page.locator("#screening").inner_text()
    assert "answered by a caseworker (Robin Hale, Safe Haven)" in latest

    page.get_by_role("link", name="Exports for the client").click()
    page.wait_for_load_state()
    _check(page, axe, "13-exports-form")
    page.get_by_label("The signed PDF chronology").check()
    page.get_by_label("What to call it (optional)").fill("46/123/26")
    page.get_by_role("button", name="Prepare the export").click()
    page.wait_for_load_state()
    deadline = time.monotonic() + 60
    while "Ready" not in page.locator("#prepared").inner_text() and time.monotonic() < deadline:
        time.sleep(0.2)
        page.get_by_role("link", name="Check again").click()
        page.wait_for_load_state()
    ready = page.locator("#prepared").inner_text()
    assert "Ready: the client can download it in their app" in ready
    _check(page, axe, "14-exports")
    page.get_by_role("link", name="Chronology and notes").click()
    page.wait_for_load_state()


def test_a_caseworker_works_with_a_client_until_consent_ends(
    live_server: LiveServer, client: TestClient, world: World, browser: Any, axe_script: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    victim = new_user(client)
    created = client.post("/v1/incidents", headers=victim.auth, json=full_incident_body(MARKER))
    assert created.status_code == 201, created.text
    context = browser.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True)
    page = context.new_page()

    opened = page.goto(f"{base}/console/")
    assert opened is not None and page.url.endswith("/console/sign-in")
    _check(page, axe_script, "1-sign-in")
    _invited_caseworker(page, base, world, axe_script)
    assert page.locator("h1").inner_text() == "Your clients"
    _check(page, axe_script, "2-clients-empty")

    page.get_by_label("Your own name for this client (optional)").fill("J. ref 113")
    page.get_by_role("button", name="Make a link code").click()
    page.wait_for_load_state()
    code = page.locator("#link-code code").inner_text()
    _check(page, axe_script, "3-link-code")
    grant_body = {"link_code": code, "scope": "assist", "expires_at": in_days(30)}
    granted = client.post("/v1/grants", headers=victim.auth, json=grant_body)
    assert granted.status_code == 201, granted.text

    page.goto(f"{base}/console/clients")
    page.get_by_role("link", name="J. ref 113").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Risk markers").is_visible()
    assert MARKER in page.locator("#timeline").inner_text()
    page.get_by_label("New note").fill("Called her back; safety plan agreed.")
    page.get_by_role("button", name="Save the note").click()
    page.wait_for_load_state()
    assert "Called her back; safety plan agreed." in page.locator("#notes").inner_text()
    _check(page, axe_script, "4-client")
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "console-4-client-print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Evidence").click()
    page.wait_for_load_state()
    _check(page, axe_script, "5-evidence")
    page.get_by_role("link", name="Draft an incident").click()
    page.wait_for_load_state()
    _check(page, axe_script, "6-draft")
    page.get_by_label("When it happened (UK time)").fill("2024-06-01T21:30")
    page.get_by_label("Loitering").check()
    page.get_by_label("In the client's words").fill("He waited at the bus stop.")
    page.get_by_role("button", name="Save the draft for the client").click()
    page.wait_for_load_state()
    timeline = page.locator("#timeline").inner_text()
    assert "He waited at the bus stop." in timeline and "Drafted on the victim" in timeline

    drafted = client.get("/v1/incident-drafts", headers=victim.auth).json()["items"][0]
    incident_id = drafted["incident_id"]
    incident = client.get(f"/v1/incidents/{incident_id}", headers=victim.auth).json()
    confirmed = client.patch(
        f"/v1/incidents/{incident_id}",
        headers={**victim.auth, "If-Match": incident["etag"]},
        json={"description": "He waited at the bus stop, as I told Sam."},
    )
    assert confirmed.status_code == 200, confirmed.text
    page.reload()
    assert "amended by the victim since" in page.locator("#timeline").inner_text()
    _revisions_screening_and_export(page, axe_script)

    client_id = granted.json()["id"]
    assert client.delete(f"/v1/grants/{client_id}", headers=victim.auth).status_code == 204
    page.reload()
    assert page.locator("h1").inner_text() == "Access to this client has ended"
    assert MARKER not in page.content()
    _check(page, axe_script, "7-access-ended")
    for path in ("/incidents", "/screening", "/exports"):
        page.goto(f"{base}/console/clients/{client_id}{path}")
        assert page.locator("h1").inner_text() == "Access to this client has ended"

    page.goto(f"{base}/console/sessions")
    assert page.get_by_role("table").filter(has_text="This browser").count() == 1
    _check(page, axe_script, "9-sessions")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/console/sign-in$"))
    context.close()


def test_a_summary_scope_caseworker_never_sees_a_diary_word(
    live_server: LiveServer, client: TestClient, world: World, browser: Any, axe_script: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    victim = new_user(client)
    created = client.post("/v1/incidents", headers=victim.auth, json=full_incident_body(MARKER))
    assert created.status_code == 201, created.text
    granted = grant(client, victim, link_code(client, world.caseworker_b, "S. ref 9"), "summary")
    context = browser.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True)
    page = context.new_page()
    _sign_in(page, live_server.url, world.caseworker_b)
    assert MARKER not in page.content()
    page.get_by_role("link", name="S. ref 9").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Incidents").is_visible()
    assert re.search("summary only", page.content())
    assert MARKER not in page.content()
    _check(page, axe_script, "8-summary-client")
    for path in ("/evidence", "/draft", "/incidents", "/screening", "/exports"):
        page.goto(f"{live_server.url}/console/clients/{granted['id']}{path}")
        assert MARKER not in page.content()
        assert page.locator("h1").inner_text() == "Outside the client's consent"
    incident = created.json()["id"]
    page.goto(f"{live_server.url}/console/clients/{granted['id']}/incidents/{incident}/revisions")
    assert MARKER not in page.content()
    assert page.locator("h1").inner_text() == "Outside the client's consent"
    _check(page, axe_script, "15-summary-outside-consent")
    context.close()
