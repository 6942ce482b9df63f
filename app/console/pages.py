"""The console's HTML: Jinja2 on the server, the strict headers, and the pages for errors.

As in the share viewer (app.viewer.pages): no JavaScript, no external resources, one
inline stylesheet allowed by its SHA-256 (no 'unsafe-inline'), text autoescaped. Templates
are looked up in app/console/templates first, then in the viewer's, so the console imports
the viewer's chronology partial rather than drawing a chronology of its own.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from app.chronology.text import time_text

_ENV = Environment(
    loader=ChoiceLoader(
        [PackageLoader("app.console", "templates"), PackageLoader("app.viewer", "templates")]
    ),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["uk_time"] = time_text
# What each consent scope shows, in the words a caseworker reads (app.sharing.scopes decides).
_ENV.globals["scope_words"] = {
    "summary": "the summary only, without the client's own words",
    "diary": "the diary and evidence",
    "assist": "the diary and evidence, and helping (drafts, notes, screenings, exports)",
}
CSS = (
    resources.files("app.viewer").joinpath("templates/viewer.css").read_text()
    + resources.files("app.console").joinpath("templates/console.css").read_text()
)
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
CONSOLE_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def render(template: str, **context: Any) -> str:
    context.setdefault("staff", None)
    context.setdefault("csrf", "")
    return _ENV.get_template(template).render(css=Markup(CSS), **context)  # noqa: S704


def page(
    template: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    body = render(template, **context)
    return HTMLResponse(body, status_code=status, headers={**CONSOLE_HEADERS, **(headers or {})})


def message(
    heading: str,
    paragraphs: list[str],
    status: int = 200,
    *,
    staff: Any = None,
    csrf: str = "",
    link: tuple[str, str] | None = None,
) -> HTMLResponse:
    """A plain page that says one thing (access has ended, not allowed, not found)."""
    return page(
        "console_message.html",
        status,
        heading=heading,
        paragraphs=paragraphs,
        staff=staff,
        csrf=csrf,
        link=link,
    )
