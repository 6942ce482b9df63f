"""Organisation admin in the console: members and their 2FA, invitations, removing a member."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.bodies import NOT_JSON, takes
from app.console import pages, service
from app.console.auth import ConsoleUser, ConsoleUserDep, PostedUser
from app.context import CtxDep
from app.db import SessionDep
from app.errors import Forbidden, Unprocessable
from app.sharing import organisations, schemas

router = APIRouter(include_in_schema=False)


def _require_org_admin(user: ConsoleUser) -> uuid.UUID:
    if user.staff.role != "org_admin" or user.staff.organisation_id is None:
        raise Forbidden("Only an organisation's admins manage its members.")
    return user.staff.organisation_id


def _page(user: ConsoleUser, session: SessionDep, invitation: object = None) -> Response:
    return pages.page(
        "organisation.html",
        staff=user.staff,
        csrf=user.csrf,
        members=service.members(session, user.staff),
        invitation=invitation,
    )


@router.get("/console/organisation")
@takes(NOT_JSON)
def organisation(user: ConsoleUserDep, session: SessionDep) -> Response:
    _require_org_admin(user)
    return _page(user, session)


@router.post("/console/organisation/invitations")
@takes(NOT_JSON)
def invite(
    user: PostedUser,
    session: SessionDep,
    ctx: CtxDep,
    role: Annotated[str, Form(max_length=20)] = "caseworker",
) -> Response:
    """A one-time invitation code for a new caseworker (or admin): shown on this page only."""
    org_id = _require_org_admin(user)
    try:
        body = schemas.InvitationIn.model_validate({"role": role})
    except ValidationError as exc:
        raise Unprocessable("Choose caseworker or organisation admin.") from exc
    made = organisations.create_invitation(ctx, session, user.staff, org_id, body)
    return _page(user, session, made)


@router.post("/console/organisation/members/{account_id}/remove")
@takes(NOT_JSON)
def remove(account_id: uuid.UUID, user: PostedUser, session: SessionDep) -> Response:
    """Take the member out of the organisation; their sessions end at once."""
    _require_org_admin(user)
    service.remove_member(session, user.staff, account_id)
    return RedirectResponse("/console/organisation", status_code=303)
