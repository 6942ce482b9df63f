"""Console test helpers: sign in through the form, read the CSRF token from a page."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD
from tests.sharing.support import Staff

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def next_code(staff: Staff) -> str:
    """The authenticator's next code: the current one was spent turning 2FA on."""
    assert staff.totp is not None
    return str(staff.totp.at(time.time() + 30))


def sign_in(client: TestClient, staff: Staff, code: str | None = None) -> Any:
    form = client.get("/console/sign-in")
    assert form.status_code == 200, form.text
    assert staff.totp is not None
    body = {
        "username": staff.user.username,
        "password": PASSWORD,
        "code": code if code is not None else next_code(staff),
        "csrf": csrf_of(form.text),
    }
    return client.post("/console/sign-in", data=body, follow_redirects=False)


def post_form(client: TestClient, page_path: str, action: str, **fields: Any) -> Any:
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={"csrf": csrf_of(page.text), **fields}, follow_redirects=False)
