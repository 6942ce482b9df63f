"""Export jobs: POST /v1/exports, then poll GET /v1/exports/{id}, then download the result.

Thin: the rules are in `service`, the making in `runner` and `results` (this package). A job
is started after its row has committed (a background task), and any read of a job that no
live worker holds (e.g. after a restart) starts it again here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Response, status
from fastapi.responses import StreamingResponse

from app.audit.record import AuditActor
from app.blobs import BlobNotFound, BlobStoreError, encrypted, remove_blob
from app.bodies import NOT_JSON, takes
from app.context import AppContext, CtxDep
from app.crypto.stream import StreamCorrupted, plaintext_size
from app.db import RecordsReads, SessionDep
from app.errors import ServiceUnavailable, problem_responses
from app.evidence.download import content_disposition
from app.exports.jobs import service as jobs
from app.exports.jobs.runner import RunnerDep, unattended
from app.exports.jobs.schemas import ExportIn, ExportOut, ExportPage
from app.pagination import Cursor, Limit
from app.security.actor import CurrentActor
from app.security.client import ClientFactsDep
from app.security.keys import KeyDep

router = APIRouter(tags=["exports"])
log = logging.getLogger("app.exports")

_REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"model": ExportOut, "description": "A repeated create: the original job."}
}
_FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The result, decrypted as it is sent.",
        "content": {media: {} for media in jobs.MEDIA_TYPES.values()},
    }
}


@router.post(
    "/v1/exports",
    operation_id="exports_create",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExportOut,
    responses={**_REPLAY, **problem_responses(401, 409, 413, 422, 429)},
)
def create_export(
    body: ExportIn,
    response: Response,
    background: BackgroundTasks,
    actor: CurrentActor,
    key: KeyDep,
    session: SessionDep,
    ctx: CtxDep,
    runner: RunnerDep,
    facts: ClientFactsDep,
) -> ExportOut:
    """Queue an export of your diary (filters as GET /v1/incidents); poll it at `Location`.

    At most a few of your exports may be queued or running at once (429 beyond that). The
    result can be downloaded until `expires_at`. Sending the same `id` and body again returns
    the original job. Recorded in your audit trail as `export.created`.
    """
    who = AuditActor.victim(actor.account_id)
    out, created = jobs.create(session, key, body, who, facts, limit=ctx.settings.max_export_jobs)
    response.status_code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/exports/{out.id}"
    if out.status in jobs.PENDING:
        background.add_task(runner.start, out.id, key.account_id)  # runs once the row has committed
    return out


@router.get(
    "/v1/exports",
    operation_id="exports_list",
    response_model=ExportPage,
    responses=problem_responses(401, 422),
)
def list_exports(
    key: KeyDep,
    session: SessionDep,
    runner: RunnerDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ExportPage:
    """Your exports, newest first (expired and failed ones included)."""
    runner.resume(key.account_id, unattended(session, key.account_id))
    return jobs.list_exports(session, key, limit, cursor)


@router.get(
    "/v1/exports/{export_id}",
    operation_id="exports_get",
    response_model=ExportOut,
    responses=problem_responses(401, 404, 422),
)
def get_export(
    export_id: uuid.UUID, key: KeyDep, session: SessionDep, runner: RunnerDep
) -> ExportOut:
    """One export's state: queued, running, done (with its size and SHA-256), failed, expired."""
    row = jobs.find(session, key.account_id, export_id)
    runner.resume(key.account_id, unattended(session, key.account_id, row.id))
    return jobs.export_out(key, row)


@router.delete(
    "/v1/exports/{export_id}",
    operation_id="exports_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404, 422),
)
def delete_export(
    export_id: uuid.UUID,
    background: BackgroundTasks,
    key: KeyDep,
    session: SessionDep,
    ctx: CtxDep,
) -> Response:
    """Delete the export and its result (a job still running is abandoned)."""
    blob_key = jobs.delete(session, key, export_id)
    if blob_key is not None:
        background.add_task(remove_blob, ctx.blobs, blob_key)  # or, failing that, the cleanup
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def read_result(ctx: AppContext, result: jobs.Result) -> Iterator[bytes]:
    """The result's plaintext, authenticated as it is read; checked before anything is sent."""
    try:
        if plaintext_size(ctx.blobs.size(result.blob_key)) != result.size:
            raise StreamCorrupted("the stored result has the wrong size")
        return encrypted.read_plaintext(ctx.blobs, result.blob_key, result.file_key, result.aad)
    except (BlobNotFound, StreamCorrupted) as exc:
        log.error("export result failed its check", extra={"error_type": type(exc).__name__})
        raise jobs.ResultCorrupted("The stored export is missing or was altered.") from exc
    except BlobStoreError as exc:
        raise ServiceUnavailable("The file store cannot be reached right now.") from exc


def download_headers(result: jobs.Result) -> dict[str, str]:
    return {
        "Content-Length": str(result.size),
        "ETag": f'"{result.sha256}"',
        "Content-Disposition": content_disposition(result.file_name, result.export_id),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


@router.get(
    "/v1/exports/{export_id}/download",
    operation_id="exports_download",
    response_class=Response,
    responses={**_FILES, **problem_responses(401, 404, 409, 410, 422, 503)},
    dependencies=[RecordsReads],
)
@takes(NOT_JSON)
def download_export(
    export_id: uuid.UUID,
    actor: CurrentActor,
    key: KeyDep,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """The finished export, decrypted as it streams; 409 until it is done, 410 once expired.

    Recorded in your audit trail as `export.downloaded`.
    """
    result = jobs.downloadable(session, key, export_id, AuditActor.victim(actor.account_id), facts)
    # The audit row is committed before the blob store is asked anything: no write
    # transaction stays open across the store's I/O or the client's network.
    session.commit()
    chunks = read_result(ctx, result)
    return StreamingResponse(chunks, media_type=result.media_type, headers=download_headers(result))
