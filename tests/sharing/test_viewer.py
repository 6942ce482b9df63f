"""The officer's viewer at /s/{token}: passcode, headers, scope, pages for dead links, downloads."""

from __future__ import annotations

import html as html_lib
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.exports.bundle.verify import load_public_keys, verify_bundle
from app.middleware import loggable_path
from app.viewer.pages import CSS
from tests.conftest import User
from tests.sharing.shares_support import (
    PASSCODE,
    add_incident,
    add_subject,
    create_share,
    enter_passcode,
    small_diary,
    token_of,
)
from tests.sharing.support import set_column

STRICT = {
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
}


def _assert_strict_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in STRICT.items():
        assert headers[name] == value, name
    csp = headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "script-src" not in csp


def test_the_page_shows_the_summary_risk_first_with_charts_and_timeline(
    client: TestClient, alice: User
) -> None:
    small_diary(client, alice, "Viewed")
    token = token_of(create_share(client, alice))
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    _assert_strict_headers(page)
    text = page.text
    order = [
        'id="risk-h"',
        'id="suspects-h"',
        'id="screening-h"',
        'id="downloads-h"',
        "Severity of each incident over time",
        "Incidents per week",
        'id="conduct-h"',
        'id="offences-h"',
        'id="four-h"',
        'id="timeline-h"',
        'id="verify-h"',
    ]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)
    assert text.count("<svg") == 2 and text.count('role="img"') == 2
    assert '<desc id="chart-frequency-desc">' in text
    assert '<th scope="col">When</th>' in text and 'id="incident-3"' in text
    assert "Twelve texts; he said I&#39;d regret it." in text
    assert "/chronology.pdf" in text and "/bundle.zip" in text and 'href="/v1/keys"' in text
    assert "<script" not in text
    assert "How the trend is worked out: Frequency: the incidents in the last 4 weeks" in text


def test_the_inline_stylesheet_is_allowed_by_its_hash(client: TestClient, alice: User) -> None:
    import base64
    import hashlib

    page = client.get(f"/s/{token_of(create_share(client, alice))}")
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    assert f"<style>{CSS}</style>" in page.text
    assert f"style-src 'sha256-{digest}'" in page.headers["content-security-policy"]


def test_victim_text_is_escaped_not_markup(client: TestClient, alice: User) -> None:
    add_incident(client, alice, description='<script>alert(1)</script><img src=x onerror="y">')
    page = client.get(f"/s/{token_of(create_share(client, alice))}")
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_passcode_share_asks_for_it_and_sets_a_strict_cookie(
    client: TestClient, alice: User
) -> None:
    small_diary(client, alice, "Protected")
    token = token_of(create_share(client, alice, passcode=PASSCODE))
    form = client.get(f"/s/{token}")
    assert form.status_code == 200
    _assert_strict_headers(form)
    assert '<label for="passcode">Passcode</label>' in form.text
    assert 'method="post"' in form.text and "Protected" not in form.text
    for path in ("chronology.pdf", "bundle.zip"):
        blocked = client.get(f"/s/{token}/{path}", follow_redirects=False)
        assert blocked.status_code == 303 and blocked.headers["location"] == f"/s/{token}"
    wrong = enter_passcode(client, token, "not the passcode")
    assert wrong.status_code == 401 and 'role="alert"' in wrong.text
    assert "set-cookie" not in wrong.headers
    right = enter_passcode(client, token)
    assert right.status_code == 303 and right.headers["location"] == f"/s/{token}"
    cookie = right.headers["set-cookie"]
    for attribute in ("HttpOnly", f"Path=/s/{token}", "SameSite=strict", "Max-Age="):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain HTTP in tests; set over HTTPS
    assert PASSCODE not in cookie and PASSCODE not in right.headers["location"]
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "Protected" in page.text
    assert client.get(f"/s/{token}/chronology.pdf").status_code == 200


def test_the_viewer_cookie_is_secure_over_https(client: TestClient, alice: User) -> None:
    token = token_of(create_share(client, alice, passcode=PASSCODE))
    right = client.post(
        f"https://testserver/s/{token}", data={"passcode": PASSCODE}, follow_redirects=False
    )
    assert "Secure" in right.headers["set-cookie"]


def test_a_cookie_opens_only_its_own_share(client: TestClient, alice: User) -> None:
    first = token_of(create_share(client, alice, passcode=PASSCODE))
    second = token_of(create_share(client, alice, passcode=PASSCODE))
    value = enter_passcode(client, first).cookies["chronicle_share"]
    client.cookies.clear()
    client.cookies.set("chronicle_share", value)
    stolen = client.get(f"/s/{second}")
    assert 'name="passcode"' in stolen.text


def test_passcode_guessing_is_throttled_per_share(client: TestClient, alice: User) -> None:
    made = create_share(client, alice, passcode=PASSCODE)
    token = token_of(made)
    statuses = [enter_passcode(client, token, f"guess-{n:04d}").status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]
    refused = enter_passcode(client, token)  # even the right one, until the wait is over
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many wrong passcodes" in refused.text
    failures = client.get("/v1/audit?action=share.passcode_failed", headers=alice.auth).json()[
        "items"
    ]
    assert len(failures) == 5


def test_unknown_revoked_and_expired_links_get_clear_pages(
    app: FastAPI, client: TestClient, alice: User
) -> None:
    unknown = client.get("/s/chs_nosuchtokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert unknown.status_code == 404 and "This link is not available" in unknown.text
    _assert_strict_headers(unknown)
    assert client.get("/s/" + "x" * 300).status_code == 404
    expired = create_share(client, alice)
    set_column(app, "share_links", expired["id"], expires_at=_past())
    page = client.get(f"/s/{token_of(expired)}")
    assert page.status_code == 410 and "This link has expired" in page.text
    assert "Traceback" not in page.text and page.headers["content-type"].startswith("text/html")
    _assert_strict_headers(page)
    as_json = client.get(f"/s/{token_of(expired)}", headers={"Accept": "application/json"})
    assert as_json.status_code == 410
    assert as_json.headers["content-type"] == "application/problem+json"


def _past() -> object:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(minutes=1)


def test_the_share_shows_only_its_scope(client: TestClient, alice: User) -> None:
    diary = small_diary(client, alice, "InScope")
    other = add_subject(client, alice, "OtherPerson")
    add_incident(
        client, alice, occurred_at="2024-03-05T10:00:00Z", subject_ids=[other],
        description="OutOfScopeSubject entry",
    )  # fmt: skip
    add_incident(client, alice, occurred_at="2023-01-05T10:00:00Z", description="TooEarly entry")
    scope = {"from": "2024-03-01T00:00:00Z", "to": "2024-03-15T00:00:00Z",
             "subject_ids": [diary["subject"]]}  # fmt: skip
    token = token_of(create_share(client, alice, scope=scope))
    page = client.get(f"/s/{token}").text
    assert "Twelve texts" in page and "outside the flat" in page
    for hidden in ("staff entrance", "OutOfScopeSubject", "OtherPerson", "TooEarly"):
        assert hidden not in page, hidden
    bundle = zipfile.ZipFile(io.BytesIO(client.get(f"/s/{token}/bundle.zip").content))
    everything = b"".join(bundle.read(name) for name in bundle.namelist())
    for hidden in (b"staff entrance", b"OutOfScopeSubject", b"OtherPerson", b"TooEarly"):
        assert hidden not in everything, hidden
    chain = json.loads(bundle.read("chain.json"))
    assert "revisions" not in chain and len(chain["events"]) == 7


def test_the_bundle_verifies_offline_against_the_published_keys(
    client: TestClient, alice: User, tmp_path: Path
) -> None:
    small_diary(client, alice, "Bundled")
    token = token_of(create_share(client, alice))
    response = client.get(f"/s/{token}/bundle.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    _assert_strict_headers(response)
    path = tmp_path / "bundle.zip"
    path.write_bytes(response.content)
    keys = load_public_keys(client.get("/v1/keys").content)
    report = verify_bundle(path, keys)
    assert report.ok, report.problems
    assert report.chain_length == 4
    names = zipfile.ZipFile(path).namelist()
    assert "chronology.pdf" in names and "chain.json" in names
    assert "revisions" in json.loads(zipfile.ZipFile(path).read("chain.json"))


def test_the_pdf_is_signed_and_served_as_a_download(client: TestClient, alice: User) -> None:
    small_diary(client, alice, "Printed")
    token = token_of(create_share(client, alice))
    response = client.get(f"/s/{token}/chronology.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and b"/ByteRange" in response.content
    _assert_strict_headers(response)


def test_no_exhibits_without_evidence(client: TestClient, alice: User) -> None:
    token = token_of(create_share(client, alice, scope={"include_evidence": True}))
    page = client.get(f"/s/{token}")
    assert "No evidence files are attached" in page.text
    missing = client.get(f"/s/{token}/exhibits/EX-001")
    assert missing.status_code == 404 and "No such exhibit" in missing.text


def test_the_token_is_masked_in_every_logged_path() -> None:
    token = "chs_" + "A" * 43
    for suffix in ("", "/chronology.pdf", "/bundle.zip", "/exhibits/EX-001"):
        logged = loggable_path(f"/s/{token}{suffix}")
        assert token not in logged and logged == f"/s/***{suffix}"


def test_the_viewer_and_its_pdf_show_the_latest_sdash_screening_or_none(
    client: TestClient, alice: User, tmp_path: Path
) -> None:
    small_diary(client, alice, "Screened")
    token = token_of(create_share(client, alice))
    assert "No S-DASH screening recorded." in client.get(f"/s/{token}").text

    body = {
        "answered_by": "officer",
        "crime_reference": "CR/77/2026",
        "answers": {"q1": {"answer": "yes"}, "q6": {"answer": "yes"}, "q2": {"answer": "no"}},
    }
    recorded = client.post("/v1/risk-assessments", headers=alice.auth, json=body)
    assert recorded.status_code == 201, recorded.text
    text = html_lib.unescape(client.get(f"/s/{token}").text)
    assert "No S-DASH screening recorded." not in text
    assert "Latest S-DASH screening: " in text
    assert "answered by an officer: 2 of 11 questions answered yes (3 answered)" in text
    assert "crime reference CR/77/2026" in text
    assert "Yes: 1. Is the victim very frightened?" in text
    assert re.search(r"Latest S-DASH screening: \d+ \w+ \d{4}, \d\d:\d\d (GMT|BST)", text)
    assert text.index('id="risk-h"') < text.index('id="suspects-h"')
    assert text.index('id="suspects-h"') < text.index('id="screening-h"')
    assert text.index('id="screening-h"') < text.index('id="offences-h"')

    pdf = client.get(f"/s/{token}/chronology.pdf").content
    if shutil.which("pdftotext"):
        (tmp_path / "c.pdf").write_bytes(pdf)
        subprocess.run(["pdftotext", str(tmp_path / "c.pdf")], check=True)
        words = " ".join((tmp_path / "c.txt").read_text().split())
        assert "Risk screening (S-DASH)" in words
        assert "answered by an officer: 2 of 11 questions answered yes" in words
        assert "crime reference CR/77/2026" in words
