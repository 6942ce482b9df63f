"""The one check that decides what a caseworker may see of a client: `resolve_client`.

Every caseworker-side route about one client calls it (through `client_access(need)`), and
nothing else reads a victim's data for a caseworker. It is evaluated on every request, with
no caching, so a revocation, an expiry or a narrower scope applies to the very next request.

Answers, in order:
- the caller is not a caseworker with 2FA and a membership: 403 (see app.security.roles);
- no grant with that id for this caseworker, or revoked, or expired: 404 `not-found`, the same
  answer as for an id that never existed, so ids reveal nothing;
- a live grant of this caseworker whose scope is narrower than `need`: 403
  `scope-insufficient`. The caseworker already sees that client and its scope in
  GET /v1/clients, so saying so reveals nothing and tells them to ask for more.

On PostgreSQL the grant row is read FOR SHARE, so a revocation (an UPDATE of that row) waits
for requests already past this check to finish: once DELETE /v1/grants/{id} has answered, no
caseworker request is still reading under that grant. On SQLite, writers are serialised and a
read sees the snapshot of its start, which gives the same guarantee for the next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.record import AuditActor, record_audit
from app.context import AppContext, CtxDep
from app.crypto.fields import DataKey
from app.db import SessionDep, utcnow
from app.errors import Forbidden, NotFound
from app.models import AuditEvent, ConsentGrant
from app.security.client import ClientFacts
from app.security.keys import load_data_key
from app.security.roles import Caseworker, Staff
from app.sharing.schemas import Scope
from app.sharing.scopes import SCOPES

CLIENT_NOT_FOUND = "No such client, or their consent has ended."


class ScopeInsufficient(Forbidden):
    status, type, title = 403, "scope-insufficient", "Outside the client's consent"


@dataclass(frozen=True)
class ClientAccess:
    """A caseworker's live access to one client, for the length of one request."""

    client_id: uuid.UUID  # the caseworker's name for the grant (ConsentGrant.client_id)
    grant_id: uuid.UUID  # the grant's id in the client's account: what the client's records name
    # The client's account: for scoping queries only; never sent to the caseworker.
    account_id: uuid.UUID
    scope: Scope
    expires_at: datetime
    key: DataKey  # the client's data key: what the caseworker reads is decrypted with it
    actor: AuditActor  # how this caseworker appears in the client's audit trail
    caseworker: Staff

    @property
    def words(self) -> bool:
        """Whether this grant shows the client's own words (app.sharing.scopes)."""
        return SCOPES[self.scope].words

    def audit(
        self,
        session: Session,
        action: str,
        *,
        object_type: str | None = None,
        object_id: uuid.UUID | None = None,
        facts: ClientFacts | None = None,
        details: Mapping[str, str] | None = None,
    ) -> AuditEvent:
        """Record in the client's audit trail what this caseworker did."""
        return record_audit(
            session,
            self.key,
            self.actor,
            action,
            object_type=object_type,
            object_id=object_id,
            facts=facts,
            details=details,
        )


def resolve_client(
    ctx: AppContext, session: Session, caseworker: Staff, client_id: uuid.UUID, need: Scope
) -> ClientAccess:
    """The caseworker's access to `client_id` covering `need`, or NotFound / ScopeInsufficient."""
    if caseworker.role != "caseworker":
        raise Forbidden("Your account cannot do this.")
    grant = session.scalars(
        select(ConsentGrant)
        .where(
            ConsentGrant.client_id == client_id,
            ConsentGrant.caseworker_id == caseworker.account_id,
            ConsentGrant.revoked_at.is_(None),
            ConsentGrant.expires_at > utcnow(),
        )
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if grant is None:
        raise NotFound(CLIENT_NOT_FOUND)
    if SCOPES[grant.scope].rank < SCOPES[need].rank:  # type: ignore[index]
        raise ScopeInsufficient(
            f"The client's consent covers '{grant.scope}'; this needs '{need}'. "
            "Ask the client to grant a wider scope."
        )
    return ClientAccess(
        client_id=grant.client_id,
        grant_id=grant.id,
        account_id=grant.account_id,
        scope=grant.scope,  # type: ignore[arg-type]
        expires_at=grant.expires_at,
        key=load_data_key(session, ctx.keyring, grant.account_id),
        actor=AuditActor("caseworker", str(grant.id), caseworker.signature),
        caseworker=caseworker,
    )


def client_access(need: Scope) -> Callable[..., ClientAccess]:
    """A dependency for routes under /v1/clients/{client_id}: the access, or the error."""

    def dependency(
        client_id: uuid.UUID, caseworker: Caseworker, session: SessionDep, ctx: CtxDep
    ) -> ClientAccess:
        return resolve_client(ctx, session, caseworker, client_id, need)

    dependency.scope = need  # type: ignore[attr-defined]  # read by the scope table's test
    return dependency


SummaryClient = Annotated[ClientAccess, Depends(client_access("summary"))]
DiaryClient = Annotated[ClientAccess, Depends(client_access("diary"))]
AssistClient = Annotated[ClientAccess, Depends(client_access("assist"))]
