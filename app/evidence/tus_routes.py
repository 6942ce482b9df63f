"""tus 1.0 resumable uploads under /v1/uploads: core, creation, termination, checksum, expiration.

Standard tus clients work unchanged: they send the access token as a header. Every response
carries `Tus-Resumable`; errors are problem+json like everywhere else. The upload id becomes
the evidence id once the last byte is in: `/v1/uploads/{id}` -> `/v1/evidence/{id}`.

The routes parse the tus headers and shape the answer; the PATCH and HEAD flows (claim,
stream, save, complete) are one service function each in app.evidence.resumable.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.routing import APIRoute

from app.bodies import NOT_JSON, BodyKind, takes
from app.context import CtxDep
from app.db import SessionDep
from app.errors import PROBLEM_CONTENT_TYPE
from app.evidence import completion, hashing, media, resumable, tus, uploads
from app.evidence.errors import FileTooLarge, UnsupportedMedia
from app.evidence.transfer import transfer_slot
from app.security.keys import KeyDep

OFFSET_STREAM = "application/offset+octet-stream"

_PROBLEM = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_ERRORS = {
    400: "Malformed tus headers",
    401: "Authentication required",
    404: "No such upload (or not yours)",
    409: "Upload-Offset does not match, or another request is writing to the upload",
    503: "The evidence store failed; nothing of the request was kept",
    410: "The upload expired",
    412: "Tus-Resumable is not 1.0.0",
    413: "The file is too large, or the account's storage quota would be exceeded",
    415: "Not application/offset+octet-stream, or not an accepted kind of file",
    408: "The body stalled or arrived too slowly; a PATCH answers the offset it saved",
    422: "Invalid request",
    429: "Too many unfinished uploads, or too many transfers at once for this account",
    460: "Upload-Checksum does not match the body; nothing of it was kept",
    500: "What was stored failed its integrity check",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"description": _ERRORS[s], "content": _PROBLEM} for s in statuses}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


_TUS_RESUMABLE = {"Tus-Resumable": _header("Always 1.0.0.")}
_OFFSET = {"Upload-Offset": _header("Bytes received and stored so far.")}
_EXPIRES = {"Upload-Expires": _header("When an unfinished upload is removed (RFC 9110 date).")}


class TusRoute(APIRoute):
    """Adds `Tus-Resumable` to every response, the errors from dependencies included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                render = _exception_handler(request, exc)
                if render is None:
                    raise
                rendered = render(request, exc)
                response = await rendered if inspect.isawaitable(rendered) else rendered
            response.headers["Tus-Resumable"] = tus.TUS_VERSION
            return response

        return tus_handler


def _exception_handler(request: Request, exc: Exception) -> Callable[..., Any] | None:
    handlers: dict[Any, Callable[..., Any]] = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


def tus_resumable(
    value: Annotated[str | None, Header(alias="Tus-Resumable", max_length=16)] = None,
) -> None:
    tus.require_version(value)


router = APIRouter(tags=["evidence"], route_class=TusRoute, dependencies=[Depends(tus_resumable)])
options_router = APIRouter(tags=["evidence"], route_class=TusRoute)


# Each PATCH is held to its upload's length too (and to what it reserved).
CHUNK = BodyKind(json=False, limit=lambda s: s.max_upload_bytes)


@options_router.options(
    "/v1/uploads",
    operation_id="evidence_uploads_options",
    status_code=204,
    response_class=Response,
    responses={
        204: {
            "description": "What this tus server supports.",
            "headers": {
                **_TUS_RESUMABLE,
                "Tus-Version": _header("1.0.0"),
                "Tus-Extension": _header(tus.TUS_EXTENSIONS),
                "Tus-Max-Size": _header("The largest file accepted, in bytes."),
                "Tus-Checksum-Algorithm": _header(tus.CHECKSUM_ALGORITHMS),
                "Chronicle-Accepted-Types": _header(
                    f"The media types accepted as evidence: {media.ACCEPTED_TEXT}."
                ),
            },
        }
    },
)
@takes(NOT_JSON)
def options_uploads(ctx: CtxDep) -> Response:
    """tus discovery: versions, extensions, the size limit and checksum algorithms."""
    return Response(
        status_code=204,
        headers={
            "Tus-Version": tus.TUS_VERSION,
            "Tus-Extension": tus.TUS_EXTENSIONS,
            "Tus-Max-Size": str(ctx.settings.max_upload_bytes),
            "Tus-Checksum-Algorithm": tus.CHECKSUM_ALGORITHMS,
            "Chronicle-Accepted-Types": ", ".join(m.mime for m in media.ALLOWED),
        },
    )


@router.post(
    "/v1/uploads",
    operation_id="evidence_upload_create",
    status_code=201,
    response_class=Response,
    responses={
        201: {
            "description": "Created; `Location` is the upload's URL.",
            "headers": {
                **_TUS_RESUMABLE,
                **_EXPIRES,
                "Location": _header("/v1/uploads/{id}; the evidence id is the same."),
            },
        },
        **_errors(400, 401, 412, 413, 415, 422, 429),
    },
)
@takes(NOT_JSON)
def create_upload(
    key: KeyDep,
    ctx: CtxDep,
    session: SessionDep,
    request: Request,
    upload_length: Annotated[str | None, Header(alias="Upload-Length", max_length=20)] = None,
    upload_concat: Annotated[
        str | None, Header(alias="Upload-Concat", max_length=4096, include_in_schema=False)
    ] = None,
    upload_defer_length: Annotated[
        str | None, Header(alias="Upload-Defer-Length", max_length=8, include_in_schema=False)
    ] = None,
    upload_metadata: Annotated[
        str | None,
        Header(
            alias="Upload-Metadata",
            max_length=tus.MAX_METADATA_HEADER,
            description="base64 pairs: filename, caption, incident_ids (filetype is ignored).",
        ),
    ] = None,
) -> Response:
    """Start a resumable upload of `Upload-Length` bytes (reserved against the quota).

    Concatenation, deferred length and creation-with-upload are refused by name (400)."""
    tus.refuse_unsupported(
        upload_concat, upload_defer_length, request.headers.get("content-length")
    )
    length = tus.parse_count("Upload-Length", upload_length)
    if length > ctx.settings.max_upload_bytes:
        raise FileTooLarge(f"A file may be at most {ctx.settings.max_upload_bytes} bytes.")
    if length == 0:
        raise UnsupportedMedia("An empty file is not evidence.")
    upload = uploads.create(session, key, ctx.settings, length, tus.parse_metadata(upload_metadata))
    return Response(
        status_code=201,
        headers={
            "Location": f"/v1/uploads/{upload.id}",
            "Upload-Expires": tus.http_date(upload.expires_at),
        },
    )


@router.head(
    "/v1/uploads/{upload_id}",
    operation_id="evidence_upload_head",
    response_class=Response,
    responses={
        200: {
            "description": "Where the upload stands (no body).",
            "headers": {
                **_TUS_RESUMABLE,
                **_OFFSET,
                **_EXPIRES,
                "Upload-Metadata": _header("What the client gave at creation, re-encoded."),
            },
        },
        **_errors(401, 404, 410, 412, 415, 422, 503),
    },
)
@takes(CHUNK)
async def head_upload(upload_id: uuid.UUID, key: KeyDep, ctx: CtxDep) -> Response:
    """The offset to resume from. A whole upload whose completion was cut off is completed."""
    progress, metadata = await resumable.where_it_stands(ctx, key, upload_id)
    headers = progress.headers()
    encoded = tus.metadata_header(metadata) if metadata is not None else None
    if encoded:
        headers["Upload-Metadata"] = encoded
    return Response(status_code=200, headers=headers)


@router.patch(
    "/v1/uploads/{upload_id}",
    operation_id="evidence_upload_patch",
    status_code=204,
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {OFFSET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        204: {
            "description": "Stored; the last PATCH also records the evidence.",
            "headers": {**_TUS_RESUMABLE, **_OFFSET, **_EXPIRES},
        },
        **_errors(400, 401, 404, 408, 409, 410, 412, 413, 415, 422, 429, 460, 500, 503),
    },
)
@takes(CHUNK)
async def patch_upload(
    upload_id: uuid.UUID,
    request: Request,
    key: KeyDep,
    ctx: CtxDep,
    upload_offset: Annotated[str | None, Header(alias="Upload-Offset", max_length=20)] = None,
    upload_checksum: Annotated[
        str | None,
        Header(
            alias="Upload-Checksum",
            max_length=128,
            description="sha1 or sha256, a space, then the base64 digest",
        ),
    ] = None,
) -> Response:
    """Append the body at `Upload-Offset`. With `Upload-Checksum`, a mismatch keeps nothing."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != OFFSET_STREAM:
        raise UnsupportedMedia(f"Send the bytes as {OFFSET_STREAM}.")
    offset = tus.parse_count("Upload-Offset", upload_offset)
    checksum = tus.parse_checksum(upload_checksum)
    with transfer_slot(request, key.account_id, ctx.settings):
        progress = await resumable.append(ctx, key, upload_id, request, offset, checksum)
    return Response(status_code=204, headers=progress.headers())


@router.delete(
    "/v1/uploads/{upload_id}",
    operation_id="evidence_upload_delete",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Terminated; what it stored is removed.", "headers": _TUS_RESUMABLE},
        **_errors(401, 404, 409, 412, 422),
    },
)
@takes(CHUNK)
def delete_upload(upload_id: uuid.UUID, key: KeyDep, ctx: CtxDep) -> Response:
    """tus termination. A finished upload's evidence stays (DELETE /v1/evidence/{id} for it)."""
    gone = uploads.terminate(ctx.sessionmaker, key.account_id, upload_id)
    hashing.forget(upload_id)
    if not gone.completed:
        completion.remove_upload_blob(ctx, gone.state, gone.blob_key)
    return Response(status_code=204)
