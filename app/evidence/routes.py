"""Evidence routes: the one-request upload, the records, and the file itself.

Thin: parse, authorise (every lookup is scoped to the caller's account), call the service.
The upload and the download stream, so they are `async` and hand the work to worker threads.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from app.bodies import NOT_JSON, BodyKind, takes
from app.context import CtxDep
from app.db import SessionDep, write_session
from app.errors import problem_responses
from app.etags import IfMatch
from app.evidence import completion, download, oneshot, service, uploads
from app.evidence.errors import UnsupportedMedia, store_failures
from app.evidence.multipart import boundary_of
from app.evidence.schemas import EvidenceOut, EvidencePage, EvidencePatch, UploadList
from app.evidence.transfer import receive_body, transfer_slot
from app.pagination import Cursor, Limit
from app.security.keys import KeyDep

log = logging.getLogger("app.evidence")
router = APIRouter(tags=["evidence"])

# A one-request upload: the file, plus the multipart form around it (fields, part headers,
# boundaries).
FORM_OVERHEAD_BYTES = 1024 * 1024
MULTIPART = BodyKind(json=False, limit=lambda s: s.max_multipart_bytes + FORM_OVERHEAD_BYTES)

_FORM = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "id": {"type": "string", "format": "uuid", "description": "Before `file`."},
                "file": {"type": "string", "format": "binary"},
                "caption": {"type": "string", "maxLength": 5000},
                "incident_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
            },
        }
    }
}


def _json(out: EvidenceOut, status_code: int) -> JSONResponse:
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=status_code,
        headers={"ETag": out.etag, "Location": f"/v1/evidence/{out.id}"},
    )


@router.post(
    "/v1/evidence",
    operation_id="evidence_create",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceOut,
    openapi_extra={"requestBody": {"required": True, "content": _FORM}},
    responses={
        200: {"model": EvidenceOut, "description": "A repeat (same `id`, same file)."},
        **problem_responses(400, 401, 408, 409, 413, 415, 422, 429, 503),
    },
)
@takes(MULTIPART)
async def create_evidence(request: Request, key: KeyDep, ctx: CtxDep) -> Response:
    """Upload a small file in one request (fields: file, caption, incident_ids, id)."""
    boundary = boundary_of(request.headers.get("content-type"))
    if boundary is None:
        raise UnsupportedMedia("Send multipart/form-data with a `file` part.")

    def consume(*body: Any) -> oneshot.Stored:
        return oneshot.store_form(ctx, key, boundary, *body)

    with store_failures(), transfer_slot(request, key.account_id, ctx.settings):
        stored = await receive_body(request, ctx.settings, consume)
    out = await anyio.to_thread.run_sync(service.evidence_out, key, stored.row)
    return _json(out, 201 if stored.created else 200)


@router.get(
    "/v1/uploads",
    operation_id="evidence_uploads_list",
    response_model=UploadList,
    responses=problem_responses(401),
)
@takes(NOT_JSON)
def list_uploads(key: KeyDep, session: SessionDep) -> UploadList:
    """Your unfinished tus uploads (offset, length, expiry), so an app that lost their URLs
    can resume or cancel them. DELETE /v1/uploads/{id} frees an upload's reservation at once."""
    return uploads.list_open(session, key)


@router.get(
    "/v1/evidence",
    operation_id="evidence_list",
    response_model=EvidencePage,
    responses=problem_responses(401, 422),
)
def list_evidence(
    key: KeyDep,
    session: SessionDep,
    incident_id: Annotated[
        uuid.UUID | None, Query(description="Only evidence linked to this incident.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EvidencePage:
    """Live evidence, in the order it was received."""
    return service.list_evidence(session, key, incident_id, limit, cursor)


@router.get(
    "/v1/evidence/{evidence_id}",
    operation_id="evidence_get",
    response_model=EvidenceOut,
    responses=problem_responses(401, 404, 410, 422),
)
def get_evidence(
    evidence_id: uuid.UUID, response: Response, key: KeyDep, session: SessionDep
) -> EvidenceOut:
    """One evidence record (not the file: see its /content)."""
    [out] = service.linked_out(
        session, key, [service.get_live(session, key.account_id, evidence_id)]
    )
    response.headers["ETag"] = out.etag
    return out


@router.patch(
    "/v1/evidence/{evidence_id}",
    operation_id="evidence_update",
    response_model=EvidenceOut,
    responses=problem_responses(401, 404, 410, 412, 422, 428),
)
def update_evidence(
    evidence_id: uuid.UUID,
    body: EvidencePatch,
    response: Response,
    key: KeyDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> EvidenceOut:
    """Change the caption or the incidents it is linked to (the file never changes)."""
    out = service.update(session, key, evidence_id, body, if_match)
    response.headers["ETag"] = out.etag
    return out


@router.delete(
    "/v1/evidence/{evidence_id}",
    operation_id="evidence_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404, 412, 422, 428),
)
def delete_evidence(
    evidence_id: uuid.UUID, key: KeyDep, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """Delete the file: its key and blob are destroyed; the chain records the deletion."""
    with write_session(ctx.sessionmaker) as session, session.begin():
        blob_key = service.delete(session, key, evidence_id, if_match)
    if blob_key is not None:
        completion.remove_evidence_blob(ctx, blob_key, key.account_id, evidence_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/evidence/{evidence_id}/content",
    operation_id="evidence_content_get",
    response_class=StreamingResponse,
    responses={
        **download.CONTENT_RESPONSES,
        **problem_responses(401, 404, 410, 422, 429, 500, 503),
    },
)
@takes(NOT_JSON)
async def get_content(
    evidence_id: uuid.UUID,
    request: Request,
    key: KeyDep,
    ctx: CtxDep,
    range_header: download.RangeHeader = None,
    if_range: download.IfRangeHeader = None,
) -> Response:
    """Stream the file (one `Range` honoured). Altered storage aborts the stream, loudly."""
    opened = await anyio.to_thread.run_sync(download.open_file, ctx, key, evidence_id)
    return await download.respond(
        request, ctx, opened, range_header, if_range, account_id=key.account_id
    )
