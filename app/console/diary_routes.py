"""A client's incidents and each one's revisions (scope `diary` or wider).

Both pages read through app.sharing.clients.data, the caseworker API's own reads, with the
client's key and recorded in the client's audit trail; a grant narrower than `diary` is a
403 page, an ended one "access has ended", on every load.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.bodies import NOT_JSON, takes
from app.chronology.codes import BEHAVIOURS
from app.chronology.text import when_text
from app.console import pages
from app.console.auth import ConsoleUserDep
from app.console.client_access import P, client_access, client_context
from app.console.revisions import revision_rows
from app.context import CtxDep
from app.db import SessionDep
from app.diary.filters import IncidentFilters
from app.security.client import ClientFactsDep
from app.sharing.clients import data as client_data

router = APIRouter(include_in_schema=False)
_BEHAVIOUR = {b.code: b.label for b in BEHAVIOURS}
MAX_LISTED = 200
MAX_REVISIONS = 200


@router.get(P + "/incidents")
@takes(NOT_JSON)
def incidents_page(
    client_id: uuid.UUID,
    user: ConsoleUserDep,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """The client's incidents in diary order, each with a link to its revisions."""
    access = client_access(user, session, ctx, client_id, "diary")
    listed = client_data.list_incidents(session, access, IncidentFilters(), MAX_LISTED, None, facts)
    rows = [
        {
            "id": item.id,
            "when": when_text(item.occurred_at, item.precision),
            "behaviours": ", ".join(_BEHAVIOUR.get(code, code) for code in item.behaviours),
            "description": item.description,
            "revision": item.revision,
            "drafted": item.drafted_by is not None,
        }
        for item in listed.items
    ]
    return pages.page(
        "incidents.html",
        **client_context(user, access),
        incidents=rows,
        more=listed.next_cursor is not None,
    )


@router.get(P + "/incidents/{incident_id}/revisions")
@takes(NOT_JSON)
def revisions_page(
    client_id: uuid.UUID,
    incident_id: uuid.UUID,
    user: ConsoleUserDep,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """Every revision of one incident, oldest first, with what each one changed."""
    access = client_access(user, session, ctx, client_id, "diary")
    page = client_data.list_revisions(session, access, incident_id, MAX_REVISIONS, None, facts)
    return pages.page(
        "revisions.html",
        **client_context(user, access),
        incident_id=incident_id,
        revisions=revision_rows(page.items),
        more=page.next_cursor is not None,
    )
