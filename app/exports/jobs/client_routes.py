"""A caseworker prepares an export for a client (scope `assist`); the client downloads it.

The job is the client's own, on the client's account and under the client's data key, marked
as prepared by the caseworker (`prepared_by`) and recorded in the client's audit trail as
`export.created` by that caseworker. The caseworker can follow its state but not download it:
the client decides whom to give it to.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Response, status

from app.context import CtxDep
from app.db import SessionDep
from app.errors import problem_responses
from app.exports.jobs import prepared
from app.exports.jobs import service as jobs
from app.exports.jobs.runner import RunnerDep
from app.exports.jobs.schemas import ExportIn, ExportOut
from app.security.client import ClientFactsDep
from app.sharing.access import AssistClient

router = APIRouter(tags=["clients"])

_REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"model": ExportOut, "description": "A repeated create: the original job."}
}


def _location(client_id: uuid.UUID, export_id: uuid.UUID) -> str:
    return f"/v1/clients/{client_id}/exports/{export_id}"


@router.post(
    "/v1/clients/{client_id}/exports",
    operation_id="clients_exports_create",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExportOut,
    responses={**_REPLAY, **problem_responses(401, 403, 404, 409, 413, 422, 429)},
)
def prepare_export(
    access: AssistClient,
    body: ExportIn,
    response: Response,
    background: BackgroundTasks,
    session: SessionDep,
    ctx: CtxDep,
    runner: RunnerDep,
    facts: ClientFactsDep,
) -> ExportOut:
    """Prepare an export of the client's diary for them (scope `assist`), as POST /v1/exports.

    The client finds it in GET /v1/exports, marked as prepared by you, and downloads it.
    """
    limit = ctx.settings.max_export_jobs
    out, created = prepared.prepare(session, access, body, facts, limit=limit)
    response.status_code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
    response.headers["Location"] = _location(access.client_id, out.id)
    if out.status in jobs.PENDING:
        background.add_task(runner.start, out.id, access.account_id)
    return out


@router.get(
    "/v1/clients/{client_id}/exports/{export_id}",
    operation_id="clients_exports_get",
    response_model=ExportOut,
    responses=problem_responses(401, 403, 404, 422),
)
def get_prepared_export(
    access: AssistClient, export_id: uuid.UUID, session: SessionDep, runner: RunnerDep
) -> ExportOut:
    """The state of an export you prepared for this client (only those)."""
    return prepared.get_prepared(session, access, export_id, runner)
