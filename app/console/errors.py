"""Errors under /console/ are pages for people, not problem+json.

Installed over the app's own handlers (app.errors), which still answer everywhere else. A
request without a live console session is sent to sign in; a client whose consent has ended
(or never existed: the two are one answer, as in the API) gets one plain sentence saying so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.console import pages
from app.console.auth import COOKIE_NAME, COOKIE_PATH, SignInNeeded
from app.errors import AppError
from app.security.roles import TotpRequired
from app.sharing.access import CLIENT_NOT_FOUND

Handler = Callable[[Request, Exception], Awaitable[Response]]
ACCESS_ENDED = "Access to this client has ended"
ACCESS_ENDED_TEXT = [
    "The client's consent has ended: they withdrew it, or the time they gave has passed. "
    "Nothing more of their diary can be read here.",
    "If they want you to keep helping, they can give you access again with a new link code.",
]


def _console(request: Request) -> bool:
    return request.url.path.startswith("/console/")


def _user_context(request: Request) -> dict[str, Any]:
    user = getattr(request.state, "console_user", None)
    return {"staff": user.staff, "csrf": user.csrf} if user else {}


def error_page(request: Request, exc: AppError) -> Response:
    if isinstance(exc, SignInNeeded):
        response = RedirectResponse("/console/sign-in", status_code=303)
        response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
        return response
    if isinstance(exc, TotpRequired):
        return RedirectResponse("/console/two-factor", status_code=303)
    if exc.detail == CLIENT_NOT_FOUND:
        link = ("/console/clients", "Back to your clients")
        return pages.message(
            ACCESS_ENDED, ACCESS_ENDED_TEXT, 404, link=link, **_user_context(request)
        )
    headers = {k: v for k, v in exc.headers.items() if k.lower() == "retry-after"}
    page = pages.message(exc.title, [exc.detail], exc.status, **_user_context(request))
    page.headers.update(headers)
    return page


def install_console_errors(app: FastAPI) -> None:
    """Wrap the app's handlers: console paths get pages, every other path what it had."""

    def wrap(kind: type[Exception], page: Callable[[Request, Exception], Response]) -> None:
        plain: Handler = app.exception_handlers[kind]  # type: ignore[assignment]

        async def handler(request: Request, exc: Exception) -> Response:
            return page(request, exc) if _console(request) else await plain(request, exc)

        app.add_exception_handler(kind, handler)

    wrap(AppError, lambda request, exc: error_page(request, exc))  # type: ignore[arg-type]
    wrap(
        RequestValidationError,
        lambda request, exc: pages.message(
            "Something in the form is not right",
            ["Go back, check what you entered and try again."],
            422,
            **_user_context(request),
        ),
    )
    wrap(
        StarletteHTTPException,
        lambda request, exc: pages.message(
            "Page not found" if getattr(exc, "status_code", 0) == 404 else "Not available",
            ["Check the address, or go back to the console's start page."],
            getattr(exc, "status_code", 404),
            link=("/console/", "The console's start page"),
        ),
    )
