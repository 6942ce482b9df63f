"""One client in the console: the chronology within scope, notes, drafts and evidence.

Every route resolves the caseworker's access through app.sharing.access.resolve_client on
every request, so a revoked or expired grant ends access on the very next page load (the
console says so plainly), and what each page shows follows the scope table
(app.sharing.scopes): with `summary` the chronology is built without the client's words. Reads
are recorded in the client's audit trail by the same services the API calls.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import anyio.to_thread
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.bodies import NOT_JSON, takes
from app.chronology.codes import BEHAVIOURS
from app.console import pages
from app.console.auth import ConsoleUserDep, PostedUser
from app.console.client_access import P, client_access, client_context
from app.context import CtxDep
from app.db import SessionDep
from app.diary.filters import IncidentFilters
from app.diary.incidents.schemas import IncidentCreate
from app.errors import Unprocessable
from app.evidence import download
from app.security.client import ClientFactsDep
from app.sharing import drafts, schemas
from app.sharing.clients import data as client_data
from app.sharing.clients import service as clients
from app.viewer.pages import chronology_context

router = APIRouter(include_in_schema=False)
UK = ZoneInfo("Europe/London")


@router.get(P)
@takes(NOT_JSON)
def client_page(
    client_id: uuid.UUID,
    user: ConsoleUserDep,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """The chronology as the share viewer draws it, within the grant's scope, and the notes."""
    access = client_access(user, session, ctx, client_id, "summary")
    client = clients.get_client(ctx, session, access, facts)
    chronology = client_data.chronology(session, access, IncidentFilters(), facts)
    marks = drafts.marks(session, access.key, [e.incident_id for e in chronology.timeline])
    notes = clients.list_client_notes(session, access, 50, None, facts)
    return pages.page(
        "client.html",
        **client_context(user, access),
        **chronology_context(chronology, chronology.risk_screening, marks),
        client=client,
        withheld=chronology.withheld,
        notes=notes.items,
    )


@router.post(P + "/notes")
@takes(NOT_JSON)
def add_note(
    client_id: uuid.UUID,
    user: PostedUser,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
    text: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """A note on the client's record, for the organisation and the client to read."""
    access = client_access(user, session, ctx, client_id, "assist")
    try:
        body = schemas.NoteIn(text=text.strip())
    except ValidationError as exc:
        raise Unprocessable("Write the note before saving it.") from exc
    clients.create_note(session, access, body, facts)
    return RedirectResponse(f"/console/clients/{client_id}#notes", status_code=303)


@router.get(P + "/evidence")
@takes(NOT_JSON)
def evidence_page(
    client_id: uuid.UUID,
    user: ConsoleUserDep,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """The client's evidence files (scope `diary` or wider); every download is recorded."""
    access = client_access(user, session, ctx, client_id, "diary")
    listed = client_data.list_evidence(session, access, None, 200, None, facts)
    return pages.page("evidence.html", **client_context(user, access), evidence=listed.items)


@router.get(P + "/evidence/{evidence_id}/content")
@takes(NOT_JSON)
async def evidence_content(
    client_id: uuid.UUID,
    evidence_id: uuid.UUID,
    user: ConsoleUserDep,
    request: Request,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """One file as received, recorded as `evidence.downloaded` before any byte is sent."""
    access = await anyio.to_thread.run_sync(client_access, user, session, ctx, client_id, "diary")
    opened = await anyio.to_thread.run_sync(
        client_data.open_evidence, ctx, session, access, evidence_id, facts
    )
    response = await download.respond(
        request, ctx, opened, None, None, account_id=user.staff.account_id
    )
    response.headers["Content-Disposition"] = "attachment"
    response.headers["Cache-Control"] = "no-store"
    return response


def _behaviour_choices() -> list[tuple[str, str]]:
    return [(b.code, b.label) for b in BEHAVIOURS]


@router.get(P + "/draft")
@takes(NOT_JSON)
def draft_form(
    client_id: uuid.UUID, user: ConsoleUserDep, session: SessionDep, ctx: CtxDep
) -> Response:
    """A form to draft an incident in the client's diary, for them to confirm (scope `assist`)."""
    access = client_access(user, session, ctx, client_id, "assist")
    return pages.page(
        "draft.html", **client_context(user, access), behaviours=_behaviour_choices(), error=None
    )


def _occurred(value: str) -> datetime:
    try:
        local = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Unprocessable("Give the date and time it happened.") from exc
    return local.replace(tzinfo=UK) if local.tzinfo is None else local


@router.post(P + "/draft")
@takes(NOT_JSON)
def draft_incident(
    client_id: uuid.UUID,
    user: PostedUser,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
    occurred_at: Annotated[str, Form(max_length=40)] = "",
    behaviours: Annotated[list[str] | None, Form(max_length=64)] = None,
    description: Annotated[str, Form(max_length=20_000)] = "",
    location: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    """The draft goes into the client's diary marked as yours until they amend it."""
    access = client_access(user, session, ctx, client_id, "assist")
    try:
        body = IncidentCreate(
            occurred_at=_occurred(occurred_at),
            behaviours=behaviours or [],
            description=description.strip() or None,
            location=location.strip() or None,
        )
    except ValidationError as exc:
        raise Unprocessable(
            "The draft was not saved: give when it happened, at least one behaviour, and what "
            "happened."
        ) from exc
    drafts.draft_incident(session, access, body, facts)
    return RedirectResponse(f"/console/clients/{client_id}#timeline", status_code=303)
