"""The victim's side of officer shares: create, list, read, revoke, and see every access."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.context import CtxDep
from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Cursor, Limit
from app.security.client import ClientFactsDep
from app.security.roles import VictimActor
from app.security.slots import password_slot
from app.sharing.shares import service as shares
from app.sharing.shares.schemas import (
    ShareAccessPage,
    ShareCreatedOut,
    ShareIn,
    ShareOut,
    SharePage,
)

router = APIRouter(tags=["shares"])


@router.post(
    "/v1/shares",
    operation_id="shares_create",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareCreatedOut,
    responses=problem_responses(401, 403, 422),
    dependencies=[password_slot],
)
def create_share(
    body: ShareIn,
    response: Response,
    victim: VictimActor,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> ShareCreatedOut:
    """Create a link for a named officer: it opens GET /s/{token}, an HTML chronology viewer
    with downloads, within `scope`, until `expires_at` or until you revoke it.

    `token` and `url` are shown in this response only. Give the `passcode`, if you set one,
    separately (by phone, say). A share of part of the diary (dates or subjects) carries the
    diary's chain events (dates and hashes, no content) so the officer can still check its
    integrity; the content of entries outside the scope is never shown.
    """
    # Hashed here, before the request's transaction starts, so the write lock is not held
    # for the length of an argon2 hash; this route runs in the thread pool, off the event loop.
    passcode_hash = ctx.hasher.hash(body.passcode) if body.passcode else None
    out = shares.create_share(
        ctx, session, victim, body, passcode_hash, ctx.settings.public_base_url, facts
    )
    response.headers["Location"] = f"/v1/shares/{out.id}"
    return out


@router.get(
    "/v1/shares",
    operation_id="shares_list",
    response_model=SharePage,
    responses=problem_responses(401, 403, 422),
)
def list_shares(
    victim: VictimActor,
    session: SessionDep,
    ctx: CtxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SharePage:
    """Every share you have made (active, expired, revoked), newest first."""
    return shares.list_shares(ctx, session, victim, limit, cursor)


@router.get(
    "/v1/shares/{share_id}",
    operation_id="shares_get",
    response_model=ShareOut,
    responses=problem_responses(401, 403, 404, 422),
)
def get_share(
    share_id: uuid.UUID, victim: VictimActor, session: SessionDep, ctx: CtxDep
) -> ShareOut:
    """One of your share links: recipient, scope, expiry and status (not the token)."""
    return shares.get_share(ctx, session, victim, share_id)


@router.delete(
    "/v1/shares/{share_id}",
    operation_id="shares_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
)
def revoke_share(
    share_id: uuid.UUID,
    victim: VictimActor,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """Revoke at once: the link's next request gets a page saying it was withdrawn."""
    shares.revoke_share(ctx, session, victim, share_id, facts)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/shares/{share_id}/accesses",
    operation_id="shares_accesses_list",
    response_model=ShareAccessPage,
    responses=problem_responses(401, 403, 404, 422),
)
def list_share_accesses(
    share_id: uuid.UUID,
    victim: VictimActor,
    session: SessionDep,
    ctx: CtxDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ShareAccessPage:
    """Every open and download of the link (and every wrong passcode), newest first: when,
    from which address and browser, and what."""
    return shares.list_accesses(ctx, session, victim, share_id, limit, cursor)
