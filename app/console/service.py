"""What the console reads beyond the caseworker API: dates of latest entries, members.

Each function is scoped by the caller: a caseworker's own live grants, an organisation
admin's own organisation. Removing a member ends their sessions in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import NotFound
from app.models import Account, AuthSession, ConsentGrant, Incident, OrganisationMember
from app.security.roles import Staff


def latest_entries(session: Session, staff: Staff) -> dict[uuid.UUID, datetime]:
    """For each of the caseworker's live grants, when the client last wrote an entry."""
    rows = session.execute(
        select(ConsentGrant.id, func.max(Incident.recorded_at))
        .join(Incident, Incident.account_id == ConsentGrant.account_id)
        .where(
            ConsentGrant.caseworker_id == staff.account_id,
            ConsentGrant.revoked_at.is_(None),
            ConsentGrant.expires_at > utcnow(),
            Incident.withdrawn_at.is_(None),
        )
        .group_by(ConsentGrant.id)
    ).all()
    return {grant_id: latest for grant_id, latest in rows if latest is not None}


@dataclass(frozen=True)
class Member:
    account_id: uuid.UUID
    display_name: str
    role: str
    totp_enabled: bool
    joined_at: datetime


def members(session: Session, staff: Staff) -> list[Member]:
    """The members of the admin's own organisation, in the order they joined."""
    rows = session.execute(
        select(
            OrganisationMember.account_id,
            OrganisationMember.display_name,
            Account.role,
            Account.totp_enabled,
            OrganisationMember.joined_at,
        )
        .join(Account, Account.id == OrganisationMember.account_id)
        .where(OrganisationMember.organisation_id == staff.organisation_id)
        .order_by(OrganisationMember.joined_at, OrganisationMember.account_id)
    ).all()
    return [Member(*row) for row in rows]


def remove_member(session: Session, staff: Staff, account_id: uuid.UUID) -> None:
    """Take a member out of the admin's organisation; every session of theirs ends now.

    Their staff routes then answer 403 (app.security.roles: no membership), their console
    pages send them to sign in, and their grants show nothing any more."""
    if account_id == staff.account_id:
        raise NotFound("No such member.")
    member = session.scalars(
        select(OrganisationMember).where(
            OrganisationMember.account_id == account_id,
            OrganisationMember.organisation_id == staff.organisation_id,
        )
    ).one_or_none()
    if member is None:
        raise NotFound("No such member.")
    session.delete(member)
    session.execute(
        update(AuthSession)
        .where(AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="removed_from_organisation")
    )
    session.flush()
