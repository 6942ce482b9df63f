"""What every console page about one client starts with: the access, and the page's context.

`client_access` calls app.sharing.access.resolve_client, the one check the caseworker API
uses, on every request: a revoked or expired grant is NotFound (drawn as "access has ended"
by app.console.errors), a narrower scope is ScopeInsufficient (403). The tabs a page shows
follow the same scope table (app.sharing.scopes).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.console.auth import ConsoleUser
from app.console.routes import require_caseworker
from app.context import AppContext
from app.sharing.access import ClientAccess, resolve_client
from app.sharing.schemas import Scope
from app.sharing.scopes import SCOPES

P = "/console/clients/{client_id}"


def client_access(
    user: ConsoleUser, session: Session, ctx: AppContext, client_id: uuid.UUID, need: Scope
) -> ClientAccess:
    require_caseworker(user)
    return resolve_client(ctx, session, user.staff, client_id, need)


def client_context(user: ConsoleUser, access: ClientAccess) -> dict[str, Any]:
    rule = SCOPES[access.scope]
    return {
        "staff": user.staff,
        "csrf": user.csrf,
        "client_id": access.client_id,
        "scope": access.scope,
        "expires_at": access.expires_at,
        "can_read_diary": rule.rank >= SCOPES["diary"].rank,
        "can_assist": rule.rank >= SCOPES["assist"].rank,
    }
