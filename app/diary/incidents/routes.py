"""Incident routes: thin; the rules are in app.diary.incidents.service."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Response, status

from app.db import SessionDep
from app.diary.filters import IncidentFiltersDep
from app.diary.incidents import service
from app.diary.incidents.planned import plan_incident
from app.diary.incidents.schemas import (
    IncidentCreate,
    IncidentOut,
    IncidentPage,
    IncidentPatch,
    IncidentRevisionPage,
)
from app.diary.schemas import WithdrawIn
from app.errors import problem_responses
from app.etags import IfMatch
from app.group_commit import GroupCommitDep
from app.pagination import Cursor, Limit
from app.security.actor import AccessTokenDep
from app.security.keys import KeyDep

router = APIRouter(tags=["incidents"])

_REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"model": IncidentOut, "description": "A repeated create: the original entry."}
}


def _written(out: IncidentOut, status_code: int, created_id: uuid.UUID | None = None) -> Response:
    """The written incident's JSON, serialised once (`response_model` still documents it)."""
    headers = {"ETag": out.etag}
    if created_id is not None:
        headers["Location"] = f"/v1/incidents/{created_id}"
    return Response(out.model_dump_json(), status_code, headers, media_type="application/json")


@router.post(
    "/v1/incidents",
    operation_id="incidents_create",
    status_code=status.HTTP_201_CREATED,
    response_model=IncidentOut,
    responses={**_REPLAY, **problem_responses(401, 409, 410, 413, 422)},
)
async def create_incident(
    body: IncidentCreate, token: AccessTokenDep, writes: GroupCommitDep
) -> Response:
    """Record an incident. Sending the same `id` and content again returns it with 200."""
    out, created = await writes.run(
        token,
        lambda s, key: service.create_incident(s, key, body),
        plan=lambda s, key, appends: plan_incident(s, key, body, appends),
    )
    return _written(out, status.HTTP_201_CREATED if created else status.HTTP_200_OK, out.id)


@router.get(
    "/v1/incidents",
    operation_id="incidents_list",
    response_model=IncidentPage,
    responses=problem_responses(401, 422),
)
def list_incidents(
    key: KeyDep,
    session: SessionDep,
    filters: IncidentFiltersDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> IncidentPage:
    """Live incidents ordered by occurred_at, then recorded_at, then id."""
    return service.list_incidents(session, key, filters, limit, cursor)


@router.get(
    "/v1/incidents/{incident_id}",
    operation_id="incidents_get",
    response_model=IncidentOut,
    responses=problem_responses(401, 404, 410, 422),
)
def get_incident(
    incident_id: uuid.UUID, response: Response, key: KeyDep, session: SessionDep
) -> IncidentOut:
    """One incident as it stands now (GET .../revisions for its history)."""
    out = service.get_view(session, key, incident_id)
    response.headers["ETag"] = out.etag
    return out


@router.patch(
    "/v1/incidents/{incident_id}",
    operation_id="incidents_update",
    response_model=IncidentOut,
    responses=problem_responses(401, 404, 410, 412, 413, 422, 428),
)
async def amend_incident(
    incident_id: uuid.UUID,
    body: IncidentPatch,
    token: AccessTokenDep,
    writes: GroupCommitDep,
    if_match: IfMatch = None,
) -> Response:
    """Amend: a new revision; earlier ones stay listed. 412 carries the current version."""
    out = await writes.run(
        token, lambda s, key: service.amend_incident(s, key, incident_id, body, if_match)
    )
    return _written(out, status.HTTP_200_OK)


@router.delete(
    "/v1/incidents/{incident_id}",
    operation_id="incidents_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404, 412, 413, 422, 428),
)
def withdraw_incident(
    incident_id: uuid.UUID,
    key: KeyDep,
    session: SessionDep,
    body: WithdrawIn | None = Body(None),
    if_match: IfMatch = None,
) -> Response:
    """Withdraw: the content is erased; the chain keeps the entry, the withdrawal and its reason."""
    reason = body.reason if body else None
    service.withdraw_incident(session, key, incident_id, if_match, reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/incidents/{incident_id}/revisions",
    operation_id="incidents_revisions_list",
    response_model=IncidentRevisionPage,
    responses=problem_responses(401, 404, 422),
)
def list_revisions(
    incident_id: uuid.UUID,
    key: KeyDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> IncidentRevisionPage:
    """Every revision, oldest first, withdrawn entries included (their content erased)."""
    return service.list_revisions(session, key, incident_id, limit, cursor)
