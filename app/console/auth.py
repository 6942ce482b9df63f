"""Signing in to the console: the session cookie, its expiry, CSRF and cross-site refusal.

Sign-in calls app.sessions.service.authenticate, the API login's own check, so the console
has the same back-off, lock-out proof and single answer for every failure; the password is
hashed in FastAPI's thread pool (the routes are plain `def`), never on the event loop. Success
opens an ordinary AuthSession (so it is listed in GET /v1/sessions and can be revoked there)
whose only credential is the cookie: a random 256-bit value with its own prefix (so it is
never accepted as a bearer token), stored as its HMAC in access_tokens. The cookie is
HttpOnly, SameSite=Strict, Path=/console, Secure over HTTPS. A session ends after IDLE without
a request (the token's expiry slides) and ABSOLUTE after sign-in, whatever happens.

Every POST must carry the CSRF token of its session (an HMAC of the cookie, so nothing more is
stored) and must not come from another site: a request whose Sec-Fetch-Site says cross-site
or same-site, or whose Origin is another origin, is refused before anything else is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.context import AppContext, CtxDep
from app.db import SessionDep, utcnow
from app.errors import AppError, Forbidden
from app.models import AccessToken, Account, AccountKey, AuthSession
from app.security.actor import Actor
from app.security.client import ClientFacts
from app.security.roles import Staff, load_staff
from app.security.tokens import constant_time_equal, keyed_hash, new_token, token_hash
from app.sessions import schemas as session_schemas
from app.sessions.service import authenticate, open_auth_session

COOKIE_NAME = "chronicle_console"
SIGN_IN_COOKIE = "chronicle_console_sign_in"  # the sign-in form's CSRF, before a session
COOKIE_PATH = "/console"
CONSOLE_PREFIX = "chc_"
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
SLIDE_STEP = timedelta(minutes=1)  # the idle expiry is moved at most once a minute
STAFF_ROLES = frozenset({"caseworker", "org_admin", "admin"})
NOT_STAFF = "The console is for support-service staff. Use the Chronicle app instead."


class SignInNeeded(AppError):
    status, type, title = 401, "sign-in-needed", "Sign in to the console"


class CrossSiteRefused(Forbidden):
    status, type, title = 403, "cross-site-refused", "Form refused"


@dataclass(frozen=True)
class ConsoleUser:
    staff: Staff
    csrf: str


def csrf_for(ctx: AppContext, value: str) -> str:
    return keyed_hash(ctx.keyring.hmac_key, "console-csrf", value).hex()


def sign_in(
    ctx: AppContext, session: Session, body: session_schemas.TokenIn, facts: ClientFacts
) -> str:
    """Check the login as the API does and open a console session: the cookie's value."""
    account, _trusted = authenticate(ctx, session, body, facts)
    if account.role not in STAFF_ROLES:
        raise Forbidden(NOT_STAFF)
    auth = open_auth_session(ctx, session, account, facts, lifetime=ABSOLUTE)
    value = new_token(CONSOLE_PREFIX)
    session.add(
        AccessToken(
            token_hash=token_hash(ctx.keyring.hmac_key, value),
            session_id=auth.id,
            expires_at=min(utcnow() + IDLE, auth.expires_at),
        )
    )
    session.flush()
    return value


def console_actor(ctx: AppContext, cookie: str | None) -> Actor | None:
    """The signed-in staff member behind a cookie, with the idle expiry moved on; or None."""
    if not cookie or not cookie.startswith(CONSOLE_PREFIX) or len(cookie) > 128:
        return None
    hashed = token_hash(ctx.keyring.hmac_key, cookie)
    now = utcnow()
    # Its own short transaction: the request's own (SQLite's write lock) starts later.
    with ctx.sessionmaker.begin() as session:
        row = session.execute(
            select(
                AuthSession.id,
                AuthSession.account_id,
                AuthSession.expires_at,
                AccessToken.expires_at.label("idle_until"),
                Account.role,
                AccountKey.kek_id,
                AccountKey.wrapped_key,
            )
            .join(AccessToken, AccessToken.session_id == AuthSession.id)
            .join(Account, Account.id == AuthSession.account_id)
            .join(AccountKey, AccountKey.account_id == Account.id)
            .where(
                AccessToken.token_hash == hashed,
                AccessToken.expires_at > now,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
        ).one_or_none()
        if row is None:
            return None
        if row.idle_until - now < IDLE - SLIDE_STEP:
            session.execute(
                update(AccessToken)
                .where(AccessToken.token_hash == hashed)
                .values(expires_at=min(now + IDLE, row.expires_at))
            )
            session.execute(
                update(AuthSession).where(AuthSession.id == row.id).values(last_seen_at=now)
            )
    return Actor(
        account_id=row.account_id,
        role=row.role,
        session_id=row.id,
        kek_id=row.kek_id,
        wrapped_key=row.wrapped_key,
    )


def _own_origins(request: Request, ctx: AppContext) -> set[str]:
    origins = {f"{request.url.scheme}://{request.headers.get('host', '')}"}
    base = urlsplit(ctx.settings.public_base_url)
    origins.add(f"{base.scheme}://{base.netloc}")
    return origins


def refuse_cross_site(request: Request, ctx: AppContext) -> None:
    """A form posted from another site is refused, whatever it carries."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise CrossSiteRefused("This form was sent from another site, so it was not accepted.")
    origin = request.headers.get("origin")
    if origin is not None and origin not in _own_origins(request, ctx):
        raise CrossSiteRefused("This form was sent from another site, so it was not accepted.")


def check_sign_in_csrf(request: Request, ctx: AppContext, csrf: str) -> None:
    refuse_cross_site(request, ctx)
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not constant_time_equal(csrf.encode(), expected.encode()):
        raise CrossSiteRefused("The form had expired. Please try again.")


def current_user(request: Request, ctx: CtxDep, session: SessionDep) -> ConsoleUser:
    cookie = request.cookies.get(COOKIE_NAME)
    actor = console_actor(ctx, cookie)
    if actor is None or cookie is None:
        raise SignInNeeded("Sign in to continue.")
    request.state.actor = actor
    user = ConsoleUser(load_staff(session, actor, STAFF_ROLES), csrf_for(ctx, cookie))
    request.state.console_user = user
    return user


def same_site(request: Request, ctx: CtxDep) -> None:
    refuse_cross_site(request, ctx)


def posted_user(
    _same_site: Annotated[None, Depends(same_site)],
    user: Annotated[ConsoleUser, Depends(current_user)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> ConsoleUser:
    """The signed-in user of a form post that came from this site with this session's token."""
    check_csrf(csrf, user.csrf)
    return user


def check_csrf(presented: str, expected: str) -> None:
    if not constant_time_equal(presented.encode(), expected.encode()):
        raise CrossSiteRefused("The form had expired. Please reload the page and try again.")


ConsoleUserDep = Annotated[ConsoleUser, Depends(current_user)]
PostedUser = Annotated[ConsoleUser, Depends(posted_user)]
