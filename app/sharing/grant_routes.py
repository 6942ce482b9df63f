"""The victim's side of sharing: consent grants, and the notes caseworkers add."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from app.context import CtxDep
from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Cursor, Limit
from app.security.client import ClientFactsDep
from app.security.keys import actor_key
from app.security.roles import VictimActor
from app.sharing import grants, schemas
from app.sharing.clients import service as clients

router = APIRouter(tags=["grants"])


_REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"model": schemas.GrantOut, "description": "A repeated create: the original grant."}
}


@router.post(
    "/v1/grants",
    operation_id="grants_create",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.GrantOut,
    responses={**_REPLAY, **problem_responses(401, 403, 409, 422)},
)
def create_grant(
    body: schemas.GrantIn,
    response: Response,
    victim: VictimActor,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> schemas.GrantOut:
    """Give the caseworker who handed you `link_code` access to your diary, within `scope`,
    until `expires_at`. A newer grant to the same caseworker replaces the older one. Sending
    the same `id` and content again returns the grant with 200."""
    out, created = grants.create_grant(ctx, session, victim, body, facts)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/grants/{out.id}"
    return out


@router.get(
    "/v1/grants",
    operation_id="grants_list",
    response_model=schemas.GrantPage,
    responses=problem_responses(401, 403, 422),
)
def list_grants(
    victim: VictimActor, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> schemas.GrantPage:
    """Every grant you have made (active, expired, revoked), newest first."""
    return grants.list_grants(session, victim, limit, cursor)


@router.get(
    "/v1/grants/{grant_id}",
    operation_id="grants_get",
    response_model=schemas.GrantOut,
    responses=problem_responses(401, 403, 404, 422),
)
def get_grant(grant_id: uuid.UUID, victim: VictimActor, session: SessionDep) -> schemas.GrantOut:
    """One of your consent grants: the caseworker, scope, expiry and status."""
    return grants.get_grant(session, victim, grant_id)


@router.delete(
    "/v1/grants/{grant_id}",
    operation_id="grants_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
)
def revoke_grant(
    grant_id: uuid.UUID,
    victim: VictimActor,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """Revoke at once: the caseworker's next request is refused."""
    grants.revoke_grant(ctx, session, victim, grant_id, facts)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/caseworker-notes",
    operation_id="caseworker_notes_list",
    response_model=schemas.NotePage,
    responses=problem_responses(401, 403, 422),
)
def list_caseworker_notes(
    victim: VictimActor,
    session: SessionDep,
    ctx: CtxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.NotePage:
    """Notes your caseworkers have added to your record, newest first."""
    return clients.list_my_notes(session, actor_key(ctx.keyring, victim), limit, cursor)
