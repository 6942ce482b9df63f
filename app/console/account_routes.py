"""The staff member's own account in the console: joining from an invitation, turning on
two-factor authentication, and the list of signed-in sessions (each can be ended).

Accepting an invitation calls the API's own service (app.sharing.organisations); enrolment
calls app.accounts.service.start_totp / confirm_totp. A session signed in with the password
alone (2FA not on yet) reaches only the enrolment pages: every staff page needs 2FA
(app.security.roles.load_staff).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.accounts import service as accounts
from app.bodies import NOT_JSON, takes
from app.console import auth, pages
from app.console.auth import ConsoleUserDep, PostedUser
from app.console.routes import set_console_cookie
from app.context import AppContext, CtxDep
from app.db import SessionDep
from app.errors import Unprocessable
from app.security.actor import Actor
from app.security.client import ClientFactsDep
from app.security.slots import password_slot
from app.sessions import service as sessions
from app.sharing import organisations, schemas

router = APIRouter(include_in_schema=False)


def _join_page(
    request: Request, ctx: AppContext, *, error: str | None = None, status: int = 200
) -> Response:
    token = secrets.token_urlsafe(32)
    response = pages.page("join.html", status, csrf=token, error=error)
    set_console_cookie(response, request, ctx, auth.SIGN_IN_COOKIE, token)
    return response


@router.get("/console/join")
@takes(NOT_JSON)
def join_form(request: Request, ctx: CtxDep) -> Response:
    return _join_page(request, ctx)


@router.post("/console/join", dependencies=[password_slot])
@takes(NOT_JSON)
def join(
    request: Request,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
    code: Annotated[str, Form(max_length=128)] = "",
    username: Annotated[str, Form(max_length=256)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Create the invited account; its full username is shown once, on the next page."""
    auth.check_sign_in_csrf(request, ctx, csrf)
    fields = {
        "code": code.strip(),
        "username": username.strip(),
        "password": password,
        "display_name": display_name.strip(),
    }
    try:
        body = schemas.InvitationAcceptIn.model_validate(fields)
    except ValidationError:
        error = "Fill in every field; the password needs at least 12 characters."
        return _join_page(request, ctx, error=error, status=422)
    try:
        handle = organisations.accept_invitation(ctx, session, body, facts)
    except Unprocessable as exc:
        session.rollback()
        return _join_page(request, ctx, error=exc.detail, status=422)
    return pages.page("joined.html", username=handle)


def signed_in_actor(request: Request, ctx: CtxDep) -> Actor:
    """The session's account, 2FA on or not (only the enrolment pages accept the latter)."""
    cookie = request.cookies.get(auth.COOKIE_NAME)
    actor = auth.console_actor(ctx, cookie)
    if actor is None or cookie is None or actor.role not in auth.STAFF_ROLES:
        raise auth.SignInNeeded("Sign in to continue.")
    request.state.actor = actor
    request.state.enrolment_csrf = auth.csrf_for(ctx, cookie)
    return actor


def enrolment_actor(
    request: Request,
    _same_site: Annotated[None, Depends(auth.same_site)],
    actor: Annotated[Actor, Depends(signed_in_actor)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Actor:
    auth.check_csrf(csrf, request.state.enrolment_csrf)
    return actor


@router.get("/console/two-factor")
@takes(NOT_JSON)
def two_factor(request: Request, actor: Annotated[Actor, Depends(signed_in_actor)]) -> Response:
    return pages.page("two_factor.html", csrf=request.state.enrolment_csrf, enrol=None, error=None)


@router.post("/console/two-factor/start")
@takes(NOT_JSON)
def two_factor_start(
    request: Request,
    actor: Annotated[Actor, Depends(enrolment_actor)],
    session: SessionDep,
    ctx: CtxDep,
) -> Response:
    """A new secret for the authenticator app, shown on this page only."""
    enrol = accounts.start_totp(ctx, session, actor)
    return pages.page("two_factor.html", csrf=request.state.enrolment_csrf, enrol=enrol, error=None)


@router.post("/console/two-factor/confirm")
@takes(NOT_JSON)
def two_factor_confirm(
    request: Request,
    actor: Annotated[Actor, Depends(enrolment_actor)],
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
    code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The first code from the app turns 2FA on; the console then opens."""
    try:
        accounts.confirm_totp(ctx, session, actor, code.strip(), facts)
    except Unprocessable as exc:
        if not exc.keep_changes:
            session.rollback()
        return pages.page(
            "two_factor.html",
            422,
            csrf=request.state.enrolment_csrf,
            enrol=None,
            error=f"{exc.detail} Start again to get a new secret.",
        )
    return RedirectResponse("/console/", status_code=303)


@router.get("/console/sessions")
@takes(NOT_JSON)
def session_list(
    request: Request, user: ConsoleUserDep, session: SessionDep, ctx: CtxDep
) -> Response:
    """Where this account is signed in (the app and the console alike)."""
    listed = sessions.list_sessions(ctx, session, request.state.actor)
    return pages.page("sessions.html", staff=user.staff, csrf=user.csrf, sessions=listed.items)


@router.post("/console/sessions/{session_id}/end")
@takes(NOT_JSON)
def end_session(
    session_id: uuid.UUID,
    request: Request,
    user: PostedUser,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    sessions.revoke_session(ctx, session, request.state.actor, session_id, facts)
    return RedirectResponse("/console/sessions", status_code=303)
