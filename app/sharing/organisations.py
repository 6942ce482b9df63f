"""Organisations and their staff: created by service admins, joined only by invitation.

A service admin creates an organisation and invites its first organisation admin; an
organisation admin invites caseworkers and further organisation admins, for their own
organisation only. Accepting an invitation creates the account through the same registration
rules as a victim's (password policy, no enumeration) with the invited role and membership.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.schemas import RegisterIn
from app.accounts.service import hash_new_password, register
from app.context import AppContext
from app.db import rowcount, utcnow
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.models import Invitation, Organisation, OrganisationMember
from app.pagination import newest_first, split_page
from app.security.client import ClientFacts
from app.security.roles import Staff
from app.sharing import schemas
from app.sharing.codes import invitation_hash, new_invitation_code

ACCEPTED = (
    "Your account exists. Log in with the full username shown here, suffix included (it is "
    "shown only this once), and turn on two-factor authentication before anything else."
)
INVITATION_INVALID = "This invitation code is not valid: it is unknown, used or expired."


def _out(org: Organisation) -> schemas.OrganisationOut:
    return schemas.OrganisationOut(
        id=org.id,
        name=org.name,
        kind=org.kind,
        created_at=org.created_at,
    )


def create_organisation(session: Session, body: schemas.OrganisationIn) -> schemas.OrganisationOut:
    org = Organisation(id=uuid.uuid4(), name=body.name, kind=body.kind, created_at=utcnow())
    if session.scalar(select(Organisation.id).where(Organisation.name == body.name)) is not None:
        raise Conflict("An organisation with that name exists.")
    try:
        with session.begin_nested():
            session.add(org)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("An organisation with that name exists.") from exc
    return _out(org)


def _visible(staff: Staff) -> Select[Organisation]:
    """Admins see every organisation; organisation staff see their own."""
    query = select(Organisation)
    if staff.role != "admin":
        query = query.where(Organisation.id == staff.organisation_id)
    return query


def list_organisations(
    session: Session, staff: Staff, limit: int, cursor: str | None
) -> schemas.OrganisationPage:
    query = newest_first(_visible(staff), Organisation.created_at, Organisation.id, limit, cursor)
    page, next_cursor = split_page(
        session.scalars(query).all(), limit, lambda org: (org.created_at, org.id)
    )
    return schemas.OrganisationPage(items=[_out(org) for org in page], next_cursor=next_cursor)


def create_invitation(
    ctx: AppContext,
    session: Session,
    staff: Staff,
    organisation_id: uuid.UUID,
    body: schemas.InvitationIn,
) -> schemas.InvitationOut:
    org = session.scalars(_visible(staff).where(Organisation.id == organisation_id)).one_or_none()
    if org is None:
        raise NotFound("No such organisation.")
    if staff.role == "admin" and body.role != "org_admin":
        raise Forbidden("Service admins invite organisation admins, who invite caseworkers.")
    code = new_invitation_code()
    now = utcnow()
    invitation = Invitation(
        id=uuid.uuid4(),
        organisation_id=org.id,
        role=body.role,
        code_hash=invitation_hash(ctx.keyring.hmac_key, code),
        invited_by=staff.account_id,
        created_at=now,
        expires_at=now + timedelta(days=body.expires_in_days),
    )
    session.add(invitation)
    session.flush()
    return schemas.InvitationOut(
        id=invitation.id,
        organisation_id=org.id,
        role=body.role,
        code=code,
        expires_at=invitation.expires_at,
    )


def _claim_invitation(session: Session, code_hash: bytes) -> Invitation:
    """Mark the invitation used, if it is unused and unexpired; exactly one caller wins."""
    now = utcnow()
    claimed = session.execute(
        update(Invitation)
        .where(
            Invitation.code_hash == code_hash,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(claimed) != 1:
        raise Unprocessable(
            INVITATION_INVALID,
            extra={"errors": [{"loc": ["body", "code"], "msg": INVITATION_INVALID}]},
        )
    return session.scalars(select(Invitation).where(Invitation.code_hash == code_hash)).one()


def accept_invitation(
    ctx: AppContext, session: Session, body: schemas.InvitationAcceptIn, facts: ClientFacts
) -> str:
    """Create the invited account and return its handle (chosen name and random suffix).

    The invitation is claimed first, in this transaction. A refused password rolls everything
    back (the code stays usable). Handles are always new, so no chosen name is ever refused
    and accepting tells the code's holder nothing about which names are in use.
    """
    # Hash before the claim: the claim starts the write transaction, which must not stay open
    # while this request waits for a hashing slot.
    account_body = RegisterIn(username=body.username, password=body.password)
    password_hash = hash_new_password(ctx, account_body)
    invitation = _claim_invitation(session, invitation_hash(ctx.keyring.hmac_key, body.code))
    registered = register(
        ctx, session, account_body, facts, role=invitation.role, password_hash=password_hash
    )
    session.add(
        OrganisationMember(
            account_id=registered.account_id,
            organisation_id=invitation.organisation_id,
            display_name=body.display_name,
            joined_at=utcnow(),
        )
    )
    session.flush()
    return registered.username
