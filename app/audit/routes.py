"""GET /v1/audit: the account holder's view of who accessed their data and what changed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import schemas, service
from app.context import CtxDep
from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Cursor, Limit
from app.security.keys import actor_key
from app.security.roles import VictimActor

router = APIRouter(tags=["audit"])

Actions = Annotated[
    list[schemas.ActionName] | None,
    Query(
        alias="action",
        max_length=20,
        description="Only these actions (repeatable), e.g. `grant.created`, `security.login`.",
    ),
]


@router.get(
    "/v1/audit",
    operation_id="audit_list",
    response_model=schemas.AuditPage,
    responses=problem_responses(401, 403, 422),
)
def list_audit(
    victim: VictimActor,
    session: SessionDep,
    ctx: CtxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    actions: Actions = None,
) -> schemas.AuditPage:
    """Every access to your data by others and every security event, newest first."""
    return service.list_audit(session, actor_key(ctx.keyring, victim), limit, cursor, actions)
