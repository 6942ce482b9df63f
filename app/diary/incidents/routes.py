"""Incident routes: thin; the rules are in app.diary.incidents.service."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Response, status

from app.db import SessionDep
from app.diary.filters import IncidentFiltersDep
from app.diary.incidents import service
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
from app.pagination import Cursor, Limit
from app.security.keys import KeyDep

router = APIRouter(tags=["incidents"])

_REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"model": IncidentOut, "description": "A repeated create: the original entry."}
}


@router.post(
    "/v1/incidents",
    operation_id="incidents_create",
    status_code=status.HTTP_201_CREATED,
    response_model=IncidentOut,
    responses={**_REPLAY, **problem_responses(401, 409, 410, 413, 422)},
)
def create_incident(
    body: IncidentCreate, response: Response, key: KeyDep, session: SessionDep
) -> IncidentOut:
    """Record an incident. Sending the same `id` and content again returns it with 200."""
    out, created = service.create_incident(session, key, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["ETag"] = out.etag
    response.headers["Location"] = f"/v1/incidents/{out.id}"
    return out


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
def amend_incident(
    incident_id: uuid.UUID,
    body: IncidentPatch,
    response: Response,
    key: KeyDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> IncidentOut:
    """Amend: a new revision; earlier ones stay listed. 412 carries the current version."""
    out = service.amend_incident(session, key, incident_id, body, if_match)
    response.headers["ETag"] = out.etag
    return out


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
