"""The console's sign-in, sign-out and clients list (HTML; not part of the JSON API's schema).

Routes are plain `def`: they run in the thread pool, so the password hash at sign-in never
runs on the event loop, and `password_slot` caps how many sign-ins hash at once, as for the
API login. Errors raised here are drawn as console pages by app.console.errors.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.bodies import NOT_JSON, takes
from app.console import auth, pages, service
from app.console.auth import ConsoleUser, ConsoleUserDep, PostedUser
from app.context import AppContext, CtxDep
from app.db import SessionDep
from app.errors import Forbidden, TooManyRequests, Unauthorized
from app.security.client import ClientFactsDep
from app.security.slots import password_slot
from app.sessions.schemas import TokenIn
from app.sessions.service import LOGIN_FAILED, logout
from app.sharing import grants, schemas
from app.sharing.clients import service as clients

router = APIRouter(include_in_schema=False)
SIGNED_OUT = '"cache", "cookies", "storage"'


def _secure(request: Request, ctx: AppContext) -> bool:
    return ctx.settings.https_only or request.url.scheme == "https"


def set_console_cookie(
    response: Response, request: Request, ctx: AppContext, name: str, value: str
) -> None:
    response.set_cookie(
        name,
        value,
        path=auth.COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request, ctx),
    )


def require_caseworker(user: ConsoleUser) -> None:
    if user.staff.role != "caseworker":
        raise Forbidden("Only caseworkers have clients. Organisation admins manage members.")


def _sign_in_page(
    request: Request,
    ctx: AppContext,
    *,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token = secrets.token_urlsafe(32)
    response = pages.page("sign_in.html", status, headers, csrf=token, error=error)
    set_console_cookie(response, request, ctx, auth.SIGN_IN_COOKIE, token)
    return response


@router.get("/console/", name="console_home")
@takes(NOT_JSON)
def home(request: Request, ctx: CtxDep) -> Response:
    actor = auth.console_actor(ctx, request.cookies.get(auth.COOKIE_NAME))
    if actor is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    return RedirectResponse(_landing(actor.role), status_code=303)


@router.get("/console/sign-in")
@takes(NOT_JSON)
def sign_in_form(request: Request, ctx: CtxDep) -> Response:
    actor = auth.console_actor(ctx, request.cookies.get(auth.COOKIE_NAME))
    if actor is not None:
        return RedirectResponse(_landing(actor.role), status_code=303)
    return _sign_in_page(request, ctx)


def _landing(role: str) -> str:
    return "/console/clients" if role == "caseworker" else "/console/organisation"


@router.post("/console/sign-in", dependencies=[password_slot])
@takes(NOT_JSON)
def sign_in(
    request: Request,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Password and the authenticator's code, checked exactly as POST /v1/auth/token does."""
    auth.check_sign_in_csrf(request, ctx, csrf)
    code = code.strip().replace(" ", "")
    try:
        body = TokenIn(
            username=username.strip(),
            password=password,
            totp_code=code if code.isdigit() and len(code) == 6 else None,
            recovery_code=code if code and not code.isdigit() else None,
        )
    except ValidationError:
        return _sign_in_page(request, ctx, error=LOGIN_FAILED, status=401)
    try:
        value = auth.sign_in(ctx, session, body, facts)
    except (Unauthorized, TooManyRequests, Forbidden) as exc:
        if not exc.keep_changes:
            session.rollback()
        retry = {k: v for k, v in exc.headers.items() if k.lower() == "retry-after"}
        return _sign_in_page(request, ctx, error=exc.detail, status=exc.status, headers=retry)
    session.commit()
    response = RedirectResponse("/console/", status_code=303)
    set_console_cookie(response, request, ctx, auth.COOKIE_NAME, value)
    response.delete_cookie(auth.SIGN_IN_COOKIE, path=auth.COOKIE_PATH)
    return response


@router.post("/console/sign-out")
@takes(NOT_JSON)
def sign_out(request: Request, user: PostedUser, session: SessionDep) -> Response:
    """End this session on the server, and ask the browser to forget everything of it."""
    logout(session, request.state.actor)
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.headers["Clear-Site-Data"] = SIGNED_OUT
    response.delete_cookie(auth.COOKIE_NAME, path=auth.COOKIE_PATH)
    return response


@router.get("/console/clients")
@takes(NOT_JSON)
def client_list(user: ConsoleUserDep, session: SessionDep, ctx: CtxDep) -> Response:
    require_caseworker(user)
    page = clients.list_clients(ctx, session, user.staff, 200, None)
    latest = service.latest_entries(session, user.staff)
    return pages.page(
        "clients.html",
        staff=user.staff,
        csrf=user.csrf,
        clients=page.items,
        latest=latest,
        more=page.next_cursor is not None,
    )


@router.post("/console/clients/link-codes")
@takes(NOT_JSON)
def create_link_code(
    user: PostedUser,
    session: SessionDep,
    ctx: CtxDep,
    label: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A one-time code for a new client to enter in their app: shown on this page only."""
    require_caseworker(user)
    body = schemas.LinkCodeIn(label=label.strip() or None)
    code = grants.create_link_code(ctx, session, user.staff, body)
    return pages.page("link_code.html", staff=user.staff, csrf=user.csrf, code=code)
