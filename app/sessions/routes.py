"""Token and session routes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.context import CtxDep
from app.db import SessionDep
from app.errors import problem_responses
from app.security.actor import CurrentActor
from app.security.client import ClientFactsDep
from app.security.slots import password_slot
from app.sessions import schemas, service

router = APIRouter(tags=["sessions"])


@router.post(
    "/v1/auth/token",
    operation_id="auth_token_create",
    response_model=schemas.TokenOut,
    responses=problem_responses(401, 422, 429),
    dependencies=[password_slot],
)
def create_token(
    body: schemas.TokenIn, session: SessionDep, ctx: CtxDep, facts: ClientFactsDep
) -> schemas.TokenOut:
    """Log in. Wrong username and wrong password give the same answer, in the same time."""
    return service.login(ctx, session, body, facts)


@router.post(
    "/v1/auth/refresh",
    operation_id="auth_token_refresh",
    response_model=schemas.TokenOut,
    responses=problem_responses(401, 422),
)
def refresh_token(
    body: schemas.RefreshIn, session: SessionDep, ctx: CtxDep, facts: ClientFactsDep
) -> schemas.TokenOut:
    """Rotate the refresh token. Reusing an old one ends the session (theft detection)."""
    return service.refresh(ctx, session, body, facts)


@router.post(
    "/v1/auth/logout",
    operation_id="auth_logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401),
)
def logout(actor: CurrentActor, session: SessionDep) -> Response:
    """End this session: its access and refresh tokens stop working at once."""
    service.logout(session, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/sessions",
    operation_id="sessions_list",
    response_model=schemas.SessionList,
    responses=problem_responses(401),
)
def list_sessions(actor: CurrentActor, session: SessionDep, ctx: CtxDep) -> schemas.SessionList:
    """Signed-in devices, from what the server saw (User-Agent and address at login)."""
    return service.list_sessions(ctx, session, actor)


@router.delete(
    "/v1/sessions/{session_id:uuid}",
    operation_id="sessions_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404),
)
def revoke_session(
    session_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """End one of your sessions (e.g. a lost phone): its tokens stop at once."""
    service.revoke_session(ctx, session, actor, session_id, facts)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/sessions/revoke-all",
    operation_id="sessions_revoke_all",
    response_model=schemas.RevokedOut,
    responses=problem_responses(401),
)
def revoke_all(
    actor: CurrentActor, session: SessionDep, ctx: CtxDep, facts: ClientFactsDep
) -> schemas.RevokedOut:
    """End every session of the account, this one included."""
    count = service.revoke_all(ctx, session, actor, facts)
    return schemas.RevokedOut(revoked=count)
