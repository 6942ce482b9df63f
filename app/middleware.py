"""Pure ASGI middleware: request ids, JSON access log, security headers, body-size limit.

Written as plain ASGI (not BaseHTTPMiddleware) because it sits on every request's hot path and
must be able to refuse an oversized body before reading it.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.errors import DEFAULT_PROBLEM_TYPE_BASE, PROBLEM_CONTENT_TYPE, internal_error_body

access_log = logging.getLogger("app.access")
error_log = logging.getLogger("app.errors")

# Path segments that are secrets themselves (share-link tokens) are masked in logs and metrics.
_SECRET_PATHS = re.compile(r"^(/s/)[^/]+")


def loggable_path(path: str) -> str:
    return _SECRET_PATHS.sub(r"\1***", path)


class BodyTooLarge(Exception):
    pass


def _problem_bytes(
    status: int, type_: str, title: str, detail: str, request_id: str, type_base: str
) -> bytes:
    return json.dumps(
        {
            "type": type_base + type_,
            "title": title,
            "status": status,
            "detail": detail,
            "request_id": request_id,
        }
    ).encode()


async def _send_problem(send: Send, status: int, body: bytes, request_id: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
                (b"x-request-id", request_id.encode()),
                (b"referrer-policy", b"no-referrer"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestContext:
    """Outermost app middleware: id, limits, headers, access log, and the last-resort 500."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        body_limit_for: Callable[[str], int | None],
        takes_json: Callable[[str], bool],
        hsts: bool,
        problem_type_base: str = DEFAULT_PROBLEM_TYPE_BASE,
    ) -> None:
        self.app = app
        self.problem_type_base = problem_type_base
        self.max_body = max_body
        self.body_limit_for = body_limit_for
        self.takes_json = takes_json
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}
        limit = self.body_limit_for(scope["path"]) or self.max_body

        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            status = 413 if declared.isdigit() else 400
            body = _problem_bytes(
                status,
                "payload-too-large" if status == 413 else "bad-request",
                "Request body too large" if status == 413 else "Bad request",
                f"The body may be at most {limit} bytes."
                if status == 413
                else "Invalid Content-Length.",
                request_id,
                self.problem_type_base,
            )
            await _send_problem(send, status, body, request_id)
            self._log(scope, status, started, request_id)
            return

        refusal = _negotiation_refusal(scope, self.takes_json(scope["path"]))
        if refusal is not None:
            status, type_, title, detail = refusal
            body = _problem_bytes(status, type_, title, detail, request_id, self.problem_type_base)
            await _send_problem(send, status, body, request_id)
            self._log(scope, status, started, request_id)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Frameworks may wrap this error while parsing a body; the flag lets the
                    # error handler still answer 413.
                    scope["state"]["body_too_large"] = limit
                    raise BodyTooLarge
            return message

        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                _security_headers(headers, scope, request_id, self.hsts)
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not response_started:
                status_holder["status"] = 413
                body = _problem_bytes(
                    413,
                    "payload-too-large",
                    "Request body too large",
                    f"The body may be at most {limit} bytes.",
                    request_id,
                    self.problem_type_base,
                )
                await _send_problem(send, 413, body, request_id)
        except Exception as exc:
            error_log.error(
                "unhandled error",
                extra={"error_type": type(exc).__name__, "request_id": request_id},
            )
            if not response_started:
                status_holder["status"] = 500
                body = json.dumps(internal_error_body(request_id, self.problem_type_base)).encode()
                await _send_problem(send, 500, body, request_id)
        finally:
            self._log(scope, status_holder["status"], started, request_id)

    def _log(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        metrics.observe_request(scope["method"], template, status, elapsed)
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "path": loggable_path(scope["path"]),
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON_ACCEPT = ("*/*", "application/*", "application/json", "application/problem+json")


def _negotiation_refusal(scope: Scope, takes_json: bool) -> tuple[int, str, str, str] | None:
    """415 for a JSON route sent another body type; 406 when JSON is not acceptable."""
    if not takes_json:
        return None
    if scope["method"] in _BODY_METHODS:
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        length = _header(scope, b"content-length")
        has_body = (length not in (None, "0")) or _header(scope, b"transfer-encoding")
        if (
            has_body
            and content_type != "application/json"
            and not (content_type.startswith("application/") and content_type.endswith("+json"))
        ):
            return (
                415,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the body as application/json.",
            )
    accept = _header(scope, b"accept")
    if accept:
        ranges = [part.split(";")[0].strip().lower() for part in accept.split(",")]
        if not any(r in _JSON_ACCEPT for r in ranges):
            return (
                406,
                "not-acceptable",
                "Not acceptable",
                "This resource is available as application/json only.",
            )
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _security_headers(headers: MutableHeaders, scope: Scope, request_id: str, hsts: bool) -> None:
    headers.setdefault("X-Request-ID", request_id)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    # Nothing this API returns may be cached: diary data on a shared or seized device.
    headers.setdefault("Cache-Control", "no-store")
    path: str = scope["path"]
    if not path.startswith("/s/"):
        headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    else:
        # The share viewer sets its own policy (app.viewer.pages); anything else
        # answered under /s/ (a 405, say) still gets a strict one and stays out of search engines.
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        )
        headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    if hsts:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    content_type = headers.get("content-type")
    if content_type and content_type.startswith("text/") and "charset" not in content_type:
        headers["content-type"] = content_type + "; charset=utf-8"
