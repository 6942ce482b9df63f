"""The viewer's HTML: Jinja2 templates rendered on the server, and the headers they go out with.

No JavaScript, no external resources: one inline stylesheet, allowed by its SHA-256 in the
Content-Security-Policy (so no 'unsafe-inline'), and charts drawn as inline SVG. Every
response from /s/ carries the same strict headers: no caching, no referrer (the token is in
the URL), not for search engines, no framing. Text is autoescaped: whatever the victim wrote
is shown as text, never as markup.

A page for a link that is unknown, withdrawn or expired is a short HTML page; a client that
asks only for JSON (a script, not a browser) gets the same answer as problem+json.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from app.chronology.presentation import Presentation, build_presentation
from app.chronology.schemas import Summary
from app.chronology.text import time_text
from app.errors import problem
from app.exports.model import ChainHead
from app.risk.schemas import RiskScreening
from app.sharing import drafts
from app.sharing.shares.schemas import Recipient, ShareScope
from app.viewer.charts import svg
from app.viewer.content import SharedView

_ENV = Environment(
    loader=PackageLoader("app.viewer", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
CSS = resources.files("app.viewer").joinpath("templates/viewer.css").read_text()
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
VIEWER_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
}

_GONE: Mapping[str, tuple[int, str, list[str]]] = {
    "unknown": (
        404,
        "This link is not available",
        [
            "The link may have been mistyped, or it was withdrawn by the person who shared it.",
            "If you need the chronology, ask them, or the officer in charge, for a new link.",
        ],
    ),
    "revoked": (
        410,
        "This link is not available",
        [
            "The link may have been mistyped, or it was withdrawn by the person who shared it.",
            "If you need the chronology, ask them, or the officer in charge, for a new link.",
        ],
    ),
    "expired": (
        410,
        "This link has expired",
        [
            "The person who shared this chronology set it to stop working after a while, and "
            "that time has passed.",
            "If you still need it, ask them for a new link. Copies you downloaded before stay "
            "valid and can still be verified.",
        ],
    ),
    "exhibit": (
        404,
        "No such exhibit",
        ["This share has no exhibit with that number. Go back to the chronology for the list."],
    ),
    "altered": (
        500,
        "This exhibit failed its integrity check",
        [
            "The stored file no longer matches what was received, so it is not served: you "
            "will never be given altered evidence.",
            "Tell the person who shared this chronology; the service has logged the failure. "
            "Copies downloaded earlier can still be checked against the SHA-256 listed here.",
        ],
    ),
}
# The sections before the downloads: the risk markers, who, S-DASH, the headline facts.
FIRST_SCREEN = frozenset({"risk", "suspects", "screening", "headline"})
_PROBLEM_TYPES = {404: "not-found", 410: "gone", 500: "evidence-integrity"}


def _render(template: str, **context: Any) -> str:
    return _ENV.get_template(template).render(css=Markup(CSS), **context)  # noqa: S704


def html(body: str, status: int = 200, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={**VIEWER_HEADERS, **(headers or {})})


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "json" in accept and "text/html" not in accept and "*/*" not in accept


def gone_page(request: Request, kind: str) -> Response:
    """The page for an unknown, revoked or expired link (or a missing or altered exhibit)."""
    status, heading, paragraphs = _GONE[kind]
    if _wants_json(request):
        response = problem(status, _PROBLEM_TYPES[status], heading, paragraphs[0], request=request)
        response.headers.update(VIEWER_HEADERS)
        return response
    return html(_render("message.html", heading=heading, paragraphs=paragraphs), status)


def passcode_page(
    request: Request,
    *,
    error: str | None = None,
    status: int = 200,
    retry_after: int | None = None,
) -> Response:
    """The passcode form (again, with `error`, after a wrong or throttled attempt)."""
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if error is not None and _wants_json(request):
        type_ = "too-many-requests" if status == 429 else "unauthorized"
        response = problem(status, type_, "Passcode refused", error, request=request)
        response.headers.update({**VIEWER_HEADERS, **headers})
        return response
    body = _render("passcode.html", action=request.url.path, error=error)
    return html(body, status, headers)


def _scope_text(scope: ShareScope, subject_labels: dict[str, str]) -> str:
    if scope.occurred_from and scope.occurred_to:
        period = (
            f"incidents from {time_text(scope.occurred_from)} "
            f"to before {time_text(scope.occurred_to)}"
        )
    elif scope.occurred_from:
        period = f"incidents from {time_text(scope.occurred_from)}"
    elif scope.occurred_to:
        period = f"incidents before {time_text(scope.occurred_to)}"
    else:
        period = "every incident in the diary"
    if scope.subject_ids:
        names = [
            subject_labels.get(str(s), "a person named in the diary") for s in scope.subject_ids
        ]
        period += " involving " + ", ".join(dict.fromkeys(names))
    evidence = "with evidence files" if scope.include_evidence else "without evidence files"
    return f"{period}, {evidence}."


@dataclass(frozen=True)
class ViewerFrame:
    """What the viewer shows around the presentation model: who it was shared with, until
    when, what it covers, and where its downloads are."""

    recipient: Recipient
    expires_at: datetime
    scope_text: str
    show_exhibits: bool
    chain_head: ChainHead
    base_path: str
    exhibit_files: Mapping[str, str]  # exhibit number -> the file name it downloads as


def chronology_context(
    summary: Summary, screening: RiskScreening | None, marks: drafts.Marks
) -> dict[str, Any]:
    """What templates/chronology.html draws for another surface (the caseworker console): the
    same presentation model and chart drawings the share viewer renders, without its frame."""
    labels = {i: drafts.drafted_label(m) for i, m in marks.items()}
    model = build_presentation(summary, screening=screening, marks=labels)
    return {"model": model, "charts": [svg(chart) for chart in model.charts]}


def render_viewer(model: Presentation, frame: ViewerFrame) -> str:
    """The page's HTML: the presentation model (the PDF renders the same one) in its frame."""
    base = frame.base_path
    return _render(
        "viewer.html",
        model=model,
        first_sections=tuple(s for s in model.sections if s.id in FIRST_SCREEN),
        later_sections=tuple(s for s in model.sections if s.id not in FIRST_SCREEN),
        charts=[svg(chart) for chart in model.charts],
        recipient=frame.recipient,
        expires_at=time_text(frame.expires_at),
        scope_text=frame.scope_text,
        show_exhibits=frame.show_exhibits,
        downloads={n: (f"{base}/exhibits/{n}", name) for n, name in frame.exhibit_files.items()},
        chain_head=frame.chain_head,
        pdf_url=f"{base}/chronology.pdf",
        bundle_url=f"{base}/bundle.zip",
        keys_url="/v1/keys",
    )


def viewer_page(view: SharedView, base_path: str) -> HTMLResponse:
    summary = view.content.summary
    marks = {i: drafts.drafted_label(m) for i, m in view.content.marks.items()}
    exhibits = view.content.exhibits
    model = build_presentation(summary, exhibits, screening=view.content.screening, marks=marks)
    labels = {str(s.subject_id): s.label for s in summary.subjects if s.subject_id is not None}
    frame = ViewerFrame(
        recipient=view.opened.recipient,
        expires_at=view.opened.share.expires_at,
        scope_text=_scope_text(view.scope, labels),
        show_exhibits=view.scope.include_evidence,
        chain_head=view.content.chain_head,
        base_path=base_path,
        exhibit_files={e.number: e.bundle_path.rpartition("/")[2] for e in exhibits},
    )
    return html(render_viewer(model, frame))
