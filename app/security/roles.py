"""Role dependencies: victims on one side, staff with two-factor on the other.

Sharing, exports and the audit trail all guard routes with them, so they live with the
current-actor dependency rather than in one of those packages.

Staff (service admins, organisation admins, caseworkers) must have TOTP turned on before any
staff route answers; until then they get 403 `totp-required` and can still enrol through
/v1/me/totp. Organisation staff must also still be members of an organisation. All of it is
read from the database on every request: nothing about a caller's rights is cached.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import SessionDep
from app.errors import Forbidden
from app.models import Account, Organisation, OrganisationMember
from app.security.actor import Actor, CurrentActor, require_role

ORG_ROLES = frozenset({"caseworker", "org_admin"})


class TotpRequired(Forbidden):
    status, type, title = 403, "totp-required", "Two-factor authentication required"


@dataclass(frozen=True)
class Staff:
    actor: Actor
    # None for service admins, who belong to no organisation.
    organisation_id: uuid.UUID | None
    organisation_name: str | None
    display_name: str | None

    @property
    def account_id(self) -> uuid.UUID:
        return self.actor.account_id

    @property
    def role(self) -> str:
        return self.actor.role

    @property
    def signature(self) -> str:
        """How this person is named to a victim: 'Sam Okafor, Safe Haven'."""
        return f"{self.display_name}, {self.organisation_name}"


def load_staff(session: Session, actor: Actor, roles: frozenset[str]) -> Staff:
    """The caller as staff in one of `roles`, with 2FA on and (if org staff) a membership."""
    if actor.role not in roles:
        raise Forbidden("Your account cannot do this.")
    row = session.execute(
        select(
            Account.totp_enabled,
            OrganisationMember.organisation_id,
            OrganisationMember.display_name,
            Organisation.name,
        )
        .outerjoin(OrganisationMember, OrganisationMember.account_id == Account.id)
        .outerjoin(Organisation, Organisation.id == OrganisationMember.organisation_id)
        .where(Account.id == actor.account_id)
    ).one()
    if not row.totp_enabled:
        raise TotpRequired(
            "Turn on two-factor authentication (POST /v1/me/totp) before using staff features."
        )
    if actor.role in ORG_ROLES and row.organisation_id is None:
        raise Forbidden("Your account no longer belongs to an organisation.")
    return Staff(
        actor=actor,
        organisation_id=row.organisation_id,
        organisation_name=row.name,
        display_name=row.display_name,
    )


def staff_dependency(*roles: str) -> Callable[[CurrentActor, SessionDep], Staff]:
    allowed = frozenset(roles)

    def check(actor: CurrentActor, session: SessionDep) -> Staff:
        return load_staff(session, actor, allowed)

    return check


AdminStaff = Annotated[Staff, Depends(staff_dependency("admin"))]
OrganisationManager = Annotated[Staff, Depends(staff_dependency("admin", "org_admin"))]
AnyStaff = Annotated[Staff, Depends(staff_dependency("admin", "org_admin", "caseworker"))]
Caseworker = Annotated[Staff, Depends(staff_dependency("caseworker"))]
VictimActor = Annotated[Actor, require_role("victim")]
