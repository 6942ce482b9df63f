"""Organisation routes: create and list organisations, invite staff, accept an invitation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.context import CtxDep
from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Cursor, Limit
from app.security.client import ClientFactsDep
from app.security.roles import AdminStaff, AnyStaff, OrganisationManager
from app.security.slots import password_slot
from app.sharing import organisations, schemas

router = APIRouter(tags=["organisations"])


@router.post(
    "/v1/organisations",
    operation_id="organisations_create",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.OrganisationOut,
    responses=problem_responses(401, 403, 409, 422),
)
def create_organisation(
    body: schemas.OrganisationIn, admin: AdminStaff, session: SessionDep
) -> schemas.OrganisationOut:
    """Create a support service or police force (service admins only)."""
    return organisations.create_organisation(session, body)


@router.get(
    "/v1/organisations",
    operation_id="organisations_list",
    response_model=schemas.OrganisationPage,
    responses=problem_responses(401, 403, 422),
)
def list_organisations(
    staff: AnyStaff, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> schemas.OrganisationPage:
    """Service admins: every organisation, newest first. Organisation staff: their own."""
    return organisations.list_organisations(session, staff, limit, cursor)


@router.post(
    "/v1/organisations/{organisation_id}/invitations",
    operation_id="organisations_invitations_create",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.InvitationOut,
    responses=problem_responses(401, 403, 404, 422),
)
def create_invitation(
    organisation_id: uuid.UUID,
    body: schemas.InvitationIn,
    staff: OrganisationManager,
    session: SessionDep,
    ctx: CtxDep,
) -> schemas.InvitationOut:
    """A one-time invitation code, shown once. Service admins invite organisation admins;
    organisation admins invite caseworkers and organisation admins to their own organisation."""
    return organisations.create_invitation(ctx, session, staff, organisation_id, body)


@router.post(
    "/v1/invitations/accept",
    operation_id="invitations_accept",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.InvitationAcceptOut,
    responses=problem_responses(413, 422),
    dependencies=[password_slot],
)
def accept_invitation(
    body: schemas.InvitationAcceptIn, session: SessionDep, ctx: CtxDep, facts: ClientFactsDep
) -> schemas.InvitationAcceptOut:
    """Create a staff account from an invitation. The code works once. The account's handle is
    the chosen name plus a random suffix, returned here once (`username`); login needs it."""
    handle = organisations.accept_invitation(ctx, session, body, facts)
    return schemas.InvitationAcceptOut(username=handle, detail=organisations.ACCEPTED)
