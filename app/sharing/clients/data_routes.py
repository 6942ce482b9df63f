"""A caseworker's reads (and drafts) of a client's diary, and the client's list of drafts.

Scopes, from app.sharing.access: `summary` reads the chronology; `diary` also reads the
incidents and the evidence files; `assist` also drafts incidents on the client's behalf.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.bodies import NOT_JSON, takes
from app.context import CtxDep
from app.db import RecordsReads, SessionDep
from app.diary.filters import IncidentFiltersDep
from app.diary.incidents.schemas import IncidentCreate, IncidentRevisionPage
from app.errors import problem_responses
from app.evidence import download
from app.evidence.schemas import EvidenceOut, EvidencePage
from app.pagination import Cursor, Limit
from app.security.client import ClientFactsDep
from app.security.keys import actor_key
from app.security.roles import VictimActor
from app.sharing import drafts
from app.sharing.access import AssistClient, DiaryClient, SummaryClient
from app.sharing.clients import data as client_data
from app.sharing.shares.schemas import ClientIncidentOut, ClientIncidentPage, DraftPage
from app.summaries.service import ChronologyOut

router = APIRouter(tags=["clients"], dependencies=[RecordsReads])

_REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"model": ClientIncidentOut, "description": "A repeated create: the entry as it is."}
}


@router.get(
    "/v1/clients/{client_id}/chronology",
    operation_id="clients_chronology_get",
    response_model=ChronologyOut,
    responses=problem_responses(401, 403, 404, 422),
)
def get_client_chronology(
    access: SummaryClient,
    session: SessionDep,
    ctx: CtxDep,
    filters: IncidentFiltersDep,
    facts: ClientFactsDep,
) -> Response:
    """The client's course-of-conduct summary (scope `summary` or wider); filters as
    GET /v1/incidents. Recorded in the client's audit trail as `chronology.viewed`."""
    summary = client_data.chronology(session, access, filters, facts)
    return Response(summary.model_dump_json(), media_type="application/json")


@router.get(
    "/v1/clients/{client_id}/incidents",
    operation_id="clients_incidents_list",
    response_model=ClientIncidentPage,
    responses=problem_responses(401, 403, 404, 422),
)
def list_client_incidents(
    access: DiaryClient,
    session: SessionDep,
    ctx: CtxDep,
    filters: IncidentFiltersDep,
    facts: ClientFactsDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ClientIncidentPage:
    """The client's live incidents (scope `diary` or wider), in diary order; entries drafted
    by a caseworker say so in `drafted_by`. Recorded as `incidents.viewed`."""
    return client_data.list_incidents(session, access, filters, limit, cursor, facts)


@router.get(
    "/v1/clients/{client_id}/incidents/{incident_id}",
    operation_id="clients_incidents_get",
    response_model=ClientIncidentOut,
    responses=problem_responses(401, 403, 404, 410, 422),
)
def get_client_incident(
    access: DiaryClient,
    incident_id: uuid.UUID,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> ClientIncidentOut:
    """One of the client's incidents (scope `diary` or wider). Recorded as `incidents.viewed`."""
    return client_data.get_incident(session, access, incident_id, facts)


@router.get(
    "/v1/clients/{client_id}/incidents/{incident_id}/revisions",
    operation_id="clients_incidents_revisions_list",
    response_model=IncidentRevisionPage,
    responses=problem_responses(401, 403, 404, 422),
)
def list_client_incident_revisions(
    access: DiaryClient,
    incident_id: uuid.UUID,
    session: SessionDep,
    facts: ClientFactsDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> IncidentRevisionPage:
    """Every revision of one of the client's incidents, oldest first (scope `diary` or
    wider), as GET /v1/incidents/{incident_id}/revisions shows them to the client. Recorded
    as `incidents.viewed`."""
    return client_data.list_revisions(session, access, incident_id, limit, cursor, facts)


@router.get(
    "/v1/clients/{client_id}/evidence",
    operation_id="clients_evidence_list",
    response_model=EvidencePage,
    responses=problem_responses(401, 403, 404, 422),
)
def list_client_evidence(
    access: DiaryClient,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
    incident_id: Annotated[
        uuid.UUID | None, Query(description="Only evidence linked to this incident.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EvidencePage:
    """The client's live evidence (scope `diary` or wider), in the order it was received, as
    GET /v1/evidence shows it to them. Recorded as `evidence.viewed`."""
    return client_data.list_evidence(session, access, incident_id, limit, cursor, facts)


@router.get(
    "/v1/clients/{client_id}/evidence/{evidence_id}",
    operation_id="clients_evidence_get",
    response_model=EvidenceOut,
    responses=problem_responses(401, 403, 404, 410, 422),
)
def get_client_evidence(
    access: DiaryClient,
    evidence_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> EvidenceOut:
    """One of the client's evidence records (scope `diary` or wider). Recorded as
    `evidence.viewed`."""
    out = client_data.get_evidence(session, access, evidence_id, facts)
    response.headers["ETag"] = out.etag
    return out


@router.get(
    "/v1/clients/{client_id}/evidence/{evidence_id}/content",
    operation_id="clients_evidence_content_get",
    response_class=StreamingResponse,
    responses={
        **download.CONTENT_RESPONSES,
        **problem_responses(401, 403, 404, 410, 422, 429, 500, 503),
    },
)
@takes(NOT_JSON)
async def get_client_evidence_content(
    access: DiaryClient,
    evidence_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
    range_header: download.RangeHeader = None,
    if_range: download.IfRangeHeader = None,
) -> Response:
    """The client's file as received (scope `diary` or wider; one `Range` honoured), exactly
    as GET /v1/evidence/{evidence_id}/content sends it to them. Each request is recorded as
    `evidence.downloaded` before any byte is sent."""
    opened = await anyio.to_thread.run_sync(
        client_data.open_evidence, ctx, session, access, evidence_id, facts
    )
    return await download.respond(
        request, ctx, opened, range_header, if_range, account_id=access.caseworker.account_id
    )


@router.post(
    "/v1/clients/{client_id}/incidents",
    operation_id="clients_incidents_create",
    status_code=status.HTTP_201_CREATED,
    response_model=ClientIncidentOut,
    responses={**_REPLAY, **problem_responses(401, 403, 404, 409, 410, 413, 422)},
)
def draft_client_incident(
    access: AssistClient,
    body: IncidentCreate,
    response: Response,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> ClientIncidentOut:
    """Draft an incident in the client's diary on their behalf (scope `assist`).

    It goes into the client's diary and hash chain like their own entries, marked as drafted
    by you (`drafted_by`); the client is told by a caseworker note and may amend or withdraw
    it. Recorded as `incident.drafted`. Sending the same `id` and content again returns it.
    """
    out, created = drafts.draft_incident(session, access, body, facts)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["ETag"] = out.etag
    return out


@router.get(
    "/v1/incident-drafts",
    operation_id="incident_drafts_list",
    response_model=DraftPage,
    responses=problem_responses(401, 403, 422),
    tags=["incidents"],
)
def list_incident_drafts(
    victim: VictimActor,
    session: SessionDep,
    ctx: CtxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> DraftPage:
    """Entries your caseworkers drafted in your diary, newest first, and whether you have
    amended each since (until then the words are theirs, and shares say so)."""
    return drafts.list_drafts(session, actor_key(ctx.keyring, victim), limit, cursor)
