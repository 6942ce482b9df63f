"""The caseworker's side: link codes, clients, and notes on a client's record.

Every route about one client takes its access from `app.sharing.access` (`SummaryClient`,
`DiaryClient`, `AssistClient`), which re-checks the grant on every request.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from app.context import CtxDep
from app.db import RecordsReads, SessionDep
from app.errors import problem_responses
from app.pagination import Cursor, Limit
from app.security.client import ClientFactsDep
from app.security.roles import Caseworker
from app.sharing import grants, schemas
from app.sharing.access import AssistClient, SummaryClient
from app.sharing.clients import service as clients

router = APIRouter(tags=["clients"], dependencies=[RecordsReads])


@router.post(
    "/v1/caseworker/link-codes",
    operation_id="caseworker_link_codes_create",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.LinkCodeOut,
    responses=problem_responses(401, 403, 422),
)
def create_link_code(
    body: schemas.LinkCodeIn, caseworker: Caseworker, session: SessionDep, ctx: CtxDep
) -> schemas.LinkCodeOut:
    """A one-time code (shown once, valid 24 hours) to give a client, who enters it to grant
    you access. `label` is your own name for them; only you see it."""
    return grants.create_link_code(ctx, session, caseworker, body)


@router.get(
    "/v1/clients",
    operation_id="clients_list",
    response_model=schemas.ClientPage,
    responses=problem_responses(401, 403, 422),
)
def list_clients(
    caseworker: Caseworker,
    session: SessionDep,
    ctx: CtxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.ClientPage:
    """Clients whose consent is live, newest first."""
    return clients.list_clients(ctx, session, caseworker, limit, cursor)


@router.get(
    "/v1/clients/{client_id}",
    operation_id="clients_get",
    response_model=schemas.ClientOut,
    responses=problem_responses(401, 403, 404, 422),
)
def get_client(
    access: SummaryClient, session: SessionDep, ctx: CtxDep, facts: ClientFactsDep
) -> schemas.ClientOut:
    """One client's grant; recorded in the client's audit trail as `client.viewed`."""
    return clients.get_client(ctx, session, access, facts)


@router.post(
    "/v1/clients/{client_id}/notes",
    operation_id="clients_notes_create",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.NoteOut,
    responses=problem_responses(401, 403, 404, 422),
)
def create_note(
    body: schemas.NoteIn,
    access: AssistClient,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> schemas.NoteOut:
    """Add a note to the client's record (needs the `assist` scope). The client sees it."""
    return clients.create_note(session, access, body, facts)


@router.get(
    "/v1/clients/{client_id}/notes",
    operation_id="clients_notes_list",
    response_model=schemas.NotePage,
    responses=problem_responses(401, 403, 404, 422),
)
def list_notes(
    access: SummaryClient,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.NotePage:
    """Notes you wrote under this grant, newest first."""
    return clients.list_client_notes(session, access, limit, cursor, facts)
