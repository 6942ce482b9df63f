"""problem+json (RFC 9457) for every error: the exception types and their handlers.

Services raise `AppError` subclasses; one handler renders them. Validation errors list only
where and what (`loc`, `msg`), never the rejected input, so nothing a victim typed is echoed.
Anything unexpected becomes a generic 500 with the request id, and the details go to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("app.errors")

# Until an app says otherwise (its context's settings name its PROBLEM_TYPE_BASE).
DEFAULT_PROBLEM_TYPE_BASE = "http://127.0.0.1:8000/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class AppError(Exception):
    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        # Commit the request's transaction although the request fails: a failed login
        # must still be counted and shown to the account owner.
        self.keep_changes = keep_changes


class NotFound(AppError):
    status, type, title = 404, "not-found", "Not found"


class Unauthorized(AppError):
    status, type, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status, type, title = 403, "forbidden", "Not allowed"


class Conflict(AppError):
    status, type, title = 409, "conflict", "Conflict"


def id_in_use() -> Conflict:
    # The same answer whether the id is this account's (with other content) or another's.
    return Conflict("This id is already in use; a repeated create must send the same content.")


class PreconditionFailed(AppError):
    status, type, title = 412, "precondition-failed", "The resource has changed"


class PreconditionRequired(AppError):
    status, type, title = 428, "precondition-required", "If-Match is required"


class PayloadTooLarge(AppError):
    status, type, title = 413, "payload-too-large", "Request body too large"


class TooManyRequests(AppError):
    status, type, title = 429, "too-many-requests", "Too many attempts"


class Unprocessable(AppError):
    """The one 422: raised by name, or built by `invalid` from a model's validation errors."""

    status, type, title = 422, "validation-error", "Invalid request"


VALIDATION_DETAIL = "The request did not pass validation; see errors."


def invalid(exc: ValidationError, *within: str) -> Unprocessable:
    """The 422 for values a model refused after the request was parsed (a PATCH merged onto
    the stored fields): the same body as a request that failed FastAPI's own validation, each
    error located `within` the request (`"body"`)."""
    errors = [{**error, "loc": (*within, *error["loc"])} for error in exc.errors()]
    return Unprocessable(VALIDATION_DETAIL, extra={"errors": _error_list(errors)})


def _error_list(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What a 422's `errors` says of each error: where (`loc`) and what (`msg`), no input."""
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in errors]


class ServiceUnavailable(AppError):
    status, type, title = 503, "service-unavailable", "Service temporarily unavailable"


def problem(
    status: int,
    type_: str,
    title: str,
    detail: str,
    *,
    request: Request | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type_base(request) + type_,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["request_id"] = getattr(request.state, "request_id", None)
    body.update(extra or {})
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_CONTENT_TYPE
    )


def problem_type_base(request: Request | None) -> str:
    """The app's PROBLEM_TYPE_BASE (app.settings), read from its context's settings."""
    ctx = getattr(request.app.state, "ctx", None) if request is not None else None
    settings = getattr(ctx, "settings", None)
    if settings is None:  # no app context: a bare router in a test
        return DEFAULT_PROBLEM_TYPE_BASE
    return str(settings.effective_problem_type_base)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem(
        exc.status,
        exc.type,
        exc.title,
        exc.detail,
        request=request,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _error_list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        # A body that is not JSON at all could not be understood (RFC 9110 400), which is
        # not the same as well-formed JSON with invalid values (422).
        return problem(
            400,
            "malformed-json",
            "The body is not valid JSON",
            "The request body could not be parsed as JSON; see errors for where.",
            request=request,
            extra={"errors": errors},
        )
    return await _app_error(request, Unprocessable(VALIDATION_DETAIL, extra={"errors": errors}))


_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    limit = request.scope.get("state", {}).get("body_too_large")
    if limit:
        return problem(
            413,
            "payload-too-large",
            "Request body too large",
            f"The body may be at most {limit} bytes.",
            request=request,
        )
    type_, title = _HTTP_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 500 else title
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem(exc.status_code, type_, title, detail, request=request, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method any route offers for this path (Starlette names only the first route's)."""
    path = request.scope["path"]
    matches = [
        (pattern, route_methods)
        for pattern, route_methods in request.app.state.route_methods
        if pattern.match(path)
    ]
    # A literal path (`/v1/sessions/revoke-all`) is its own resource: the templated route it
    # also matches (`/v1/sessions/{session_id}`) names another one, so its methods do not count.
    literal = [m for pattern, m in matches if pattern.groups == 0]
    methods: set[str] = set()
    for route_methods in literal or [m for _, m in matches]:
        methods |= route_methods
    return sorted(methods)


def internal_error_body(request_id: str | None, type_base: str) -> dict[str, Any]:
    return {
        "type": type_base + "internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "Something went wrong on our side. Quote the request id if you report it.",
        "request_id": request_id,
    }


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "database unavailable",
        extra={
            "error_type": type(exc).__name__,
            "request_id": getattr(request.state, "request_id", None),
        },
    )
    return problem(
        503,
        "service-unavailable",
        "Service temporarily unavailable",
        "The database cannot be reached right now. Nothing was changed; try again.",
        request=request,
        headers={"Retry-After": "5"},
    )


# What a database that went away (or a transaction it can no longer finish) raises; each is
# answered 503 "try again", never 500.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for db_error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(db_error, _database_unavailable)
    # Unexpected exceptions are caught by app.middleware.RequestContext, which logs only their
    # type: tracebacks can carry victim content in messages, so they never reach the log.


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route, so the spec lists its problem+json errors."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        s: {
            "description": _HTTP_TITLES.get(s, ("", "Error"))[1] or "Error",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": schema}},
        }
        for s in statuses
    }
