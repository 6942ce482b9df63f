"""GET /s/{token}: the officer's view of a share, its passcode form and its downloads.

HTML for people (no JavaScript needed), with the strict headers of app.viewer.pages.
The token is a secret in the path: app.middleware masks `/s/<token>` (and everything under
it) in logs and metrics, and nothing here logs it. Every route re-reads the link, so a
revocation or expiry applies to the very next request, a download included.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session

from app.bodies import NOT_JSON, takes
from app.context import AppContext, CtxDep
from app.db import RecordsReads, SessionDep, utcnow
from app.errors import PROBLEM_CONTENT_TYPE
from app.evidence.errors import IntegrityFailure
from app.evidence.exhibits import open_exhibit
from app.security.client import ClientFactsDep
from app.security.slots import password_slot
from app.sharing.chain_export import chain_document
from app.viewer.content import bundle_chunks, load_view, render_pdf, shared_exhibits
from app.viewer.links import (
    COOKIE_NAME,
    Opened,
    check_passcode,
    find_link,
    has_viewer_session,
    open_share,
    record_access,
)
from app.viewer.pages import (
    VIEWER_HEADERS,
    gone_page,
    passcode_page,
    viewer_page,
)

router = APIRouter(tags=["viewer"], dependencies=[RecordsReads])

WRONG_PASSCODE = "That passcode is not right. Check it with the person who gave it to you."

_HTML = {"text/html": {"schema": {"type": "string"}}}
_PROBLEM = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_GONE: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "Unknown or withdrawn link: a page saying so.",
        "content": {**_HTML, **_PROBLEM},
    },
    410: {
        "description": "Withdrawn or expired link: a page saying so.",
        "content": {**_HTML, **_PROBLEM},
    },
}


def _with_gone(answers: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    return {**answers, **_GONE}


def _readable(request: Request, ctx: AppContext, session: Session, token: str) -> Opened | Response:
    """The share this request may read, or the response to send instead."""
    link = find_link(session, ctx.keyring.hmac_key, token)
    if link.share is None or link.status != "active":
        return gone_page(request, link.status)
    if not has_viewer_session(
        session, ctx.keyring.hmac_key, link.share, request.cookies.get(COOKIE_NAME)
    ):
        return RedirectResponse(f"/s/{token}", status_code=303, headers=VIEWER_HEADERS)
    return open_share(ctx, session, link.share)


@router.get(
    "/s/{token}",
    operation_id="viewer_get",
    response_class=Response,
    responses=_with_gone(
        {200: {"description": "The chronology, or the passcode form.", "content": _HTML}}
    ),
)
@takes(NOT_JSON)
def view_share(
    token: str, request: Request, session: SessionDep, ctx: CtxDep, facts: ClientFactsDep
) -> Response:
    """The shared course-of-conduct summary as a web page (or its passcode form)."""
    link = find_link(session, ctx.keyring.hmac_key, token)
    if link.share is None or link.status != "active":
        return gone_page(request, link.status)
    if not has_viewer_session(
        session, ctx.keyring.hmac_key, link.share, request.cookies.get(COOKIE_NAME)
    ):
        return passcode_page(request)
    opened = open_share(ctx, session, link.share)
    record_access(session, opened, "summary", facts)
    return viewer_page(load_view(session, opened), request.url.path)


@router.post(
    "/s/{token}",
    operation_id="viewer_passcode",
    status_code=303,
    response_class=Response,
    responses=_with_gone(
        {
            303: {"description": "The passcode is right: on to the chronology."},
            401: {"description": "A wrong passcode: the form again.", "content": _HTML | _PROBLEM},
            429: {"description": "Too many wrong passcodes, for now.", "content": _HTML | _PROBLEM},
        }
    ),
    dependencies=[password_slot],
)
@takes(NOT_JSON)
def enter_passcode(
    token: str,
    request: Request,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
    passcode: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Check the passcode; if right, a short-lived cookie lets this browser read the share."""
    action = request.url.path
    result = check_passcode(ctx, session, token, passcode, facts)
    if result.outcome == "gone":
        return gone_page(request, result.status)
    if result.outcome == "limited":
        message = f"Too many wrong passcodes. Try again in {result.retry_after} seconds."
        return passcode_page(request, error=message, status=429, retry_after=result.retry_after)
    if result.outcome == "wrong":
        return passcode_page(request, error=WRONG_PASSCODE, status=401)
    if result.outcome == "open" or result.expires_at is None:
        return RedirectResponse(action, status_code=303, headers=VIEWER_HEADERS)
    value, expires_at = result.cookie, result.expires_at
    response = RedirectResponse(action, status_code=303, headers=VIEWER_HEADERS)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=max(1, int((expires_at - utcnow()).total_seconds())),
        expires=expires_at,
        path=action,
        secure=request.url.scheme == "https"
        or ctx.settings.https_only
        or ctx.settings.public_base_url.startswith("https:"),
        httponly=True,
        samesite="strict",
    )
    return response


def _download_headers(filename: str) -> dict[str, str]:
    return {**VIEWER_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}


@router.get(
    "/s/{token}/chronology.pdf",
    operation_id="viewer_pdf_get",
    response_class=Response,
    responses=_with_gone(
        {
            200: {"description": "The signed PDF.", "content": {"application/pdf": {}}},
            303: {"description": "The passcode is needed first: to the form."},
        }
    ),
)
@takes(NOT_JSON)
def download_pdf(
    token: str, request: Request, session: SessionDep, ctx: CtxDep, facts: ClientFactsDep
) -> Response:
    """The chronology as a PDF signed by the service (PAdES)."""
    opened = _readable(request, ctx, session, token)
    if isinstance(opened, Response):
        return opened
    record_access(session, opened, "chronology.pdf", facts)
    view = load_view(session, opened)
    # The access is recorded and the diary read: end the transaction before the seconds of
    # CPU work, so it holds no lock or snapshot meanwhile (this route runs in the thread pool).
    session.commit()
    pdf = render_pdf(view, ctx.signing_keys)
    return Response(pdf, media_type="application/pdf", headers=_download_headers("chronology.pdf"))


@router.get(
    "/s/{token}/bundle.zip",
    operation_id="viewer_bundle_get",
    response_class=Response,
    responses=_with_gone(
        {
            200: {
                "description": "The evidence bundle, streamed.",
                "content": {"application/zip": {}},
            },
            303: {"description": "The passcode is needed first: to the form."},
        }
    ),
)
@takes(NOT_JSON)
def download_bundle(
    token: str, request: Request, session: SessionDep, ctx: CtxDep, facts: ClientFactsDep
) -> Response:
    """The evidence bundle (docs/verifying.md), made while it is sent."""
    opened = _readable(request, ctx, session, token)
    if isinstance(opened, Response):
        return opened
    record_access(session, opened, "bundle.zip", facts)
    view = load_view(session, opened)
    chain = chain_document(session, opened.key, with_revisions=view.scope.is_whole_diary)
    # The session commits when this function returns, before the first byte is sent; the
    # bundle is then written by its own thread as the client reads it.
    return StreamingResponse(
        bundle_chunks(ctx, view, chain, ctx.signing_keys),
        media_type="application/zip",
        headers=_download_headers("chronology-bundle.zip"),
    )


@router.get(
    "/s/{token}/exhibits/{number}",
    operation_id="viewer_exhibit_get",
    response_class=Response,
    responses=_with_gone(
        {
            200: {"description": "The exhibit, bit for bit.", "content": {"*/*": {}}},
            303: {"description": "The passcode is needed first: to the form."},
            500: {
                "description": "The stored file failed its integrity check; a page says so.",
                "content": {"text/html": {}, "application/problem+json": {}},
            },
        }
    ),
)
@takes(NOT_JSON)
def download_exhibit(
    token: str,
    number: str,
    request: Request,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """One exhibit, as received (only for a share that includes evidence)."""
    opened = _readable(request, ctx, session, token)
    if isinstance(opened, Response):
        return opened
    exhibit = next((e for e in shared_exhibits(session, opened) if e.number == number), None)
    if exhibit is None:
        return gone_page(request, "exhibit")
    record_access(session, opened, f"exhibit {exhibit.number}", facts)
    # The access is recorded: commit it before the blob store is read, so no write
    # transaction stays open across the store's I/O or the client's network.
    session.commit()
    # Read the first chunk now: damage near the start is then a clear page, not a broken
    # download; damage found later breaks the transfer short of its Content-Length.
    try:
        chunks = open_exhibit(ctx, opened.key, exhibit)
        first = next(chunks, b"")
    except IntegrityFailure:
        return gone_page(request, "altered")
    headers = _download_headers(exhibit.bundle_path.rpartition("/")[2])
    return StreamingResponse(
        itertools.chain((first,), chunks),
        media_type=exhibit.media_type,
        headers={**headers, "Content-Length": str(exhibit.size)},
    )
