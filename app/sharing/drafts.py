"""Entries a caseworker drafts on a client's behalf (assist scope), and how they are marked.

A drafted entry is an ordinary incident in the client's own diary and hash chain (the client
may amend or withdraw it like any other), so that nothing about the diary's integrity differs.
What marks it as the caseworker's words:
- a caseworker note, sealed in the client's record and committed to the client's chain, that
  names the author, their organisation and the incident (`drafted_incident_id`) and revision;
  the client sees it among their caseworker notes;
- an `incident_drafts` row tying the incident to that note and to the revision the caseworker
  wrote. Every later revision is the client's own: the mark says `reviewed` once there is one.
The mark is shown wherever someone other than the client reads the entry: the caseworker's
views, the officer's viewer, and the shared PDF and bundle.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from app.audit import record as audit
from app.crypto.fields import DataKey
from app.diary.incidents import service as incidents
from app.diary.incidents.schemas import IncidentCreate, IncidentOut
from app.models import CaseworkerNote, Incident, IncidentDraft
from app.pagination import newest_first, split_page
from app.security.client import ClientFacts
from app.sharing.access import ClientAccess
from app.sharing.clients.service import add_note, note_author
from app.sharing.shares.schemas import ClientIncidentOut, DraftMark, DraftOut, DraftPage

Marks = dict[uuid.UUID, DraftMark]


def _note_text(incident: IncidentOut) -> str:
    return (
        f"I drafted a diary entry on your behalf: the incident of "
        f"{incident.occurred_at:%d %B %Y} (entry {incident.id}). Please read it, and amend or "
        "withdraw it if it is not as you would put it. Until you amend it, it is shown to "
        "anyone you share your diary with as drafted by me."
    )


def with_mark(incident: IncidentOut, marks: Marks) -> ClientIncidentOut:
    return ClientIncidentOut.model_construct(**dict(incident), drafted_by=marks.get(incident.id))


def _marks_query(account_id: uuid.UUID) -> Select[IncidentDraft, CaseworkerNote, Incident]:
    return (
        select(IncidentDraft, CaseworkerNote, Incident)
        .join(CaseworkerNote, CaseworkerNote.id == IncidentDraft.note_id)
        .join(
            Incident,
            and_(
                Incident.account_id == IncidentDraft.account_id,
                Incident.id == IncidentDraft.incident_id,
            ),
        )
        .where(IncidentDraft.account_id == account_id)
    )


def _mark(
    key: DataKey, draft: IncidentDraft, note: CaseworkerNote, incident: Incident
) -> DraftMark:
    author, organisation = note_author(key, note)
    return DraftMark(
        revision=draft.revision,
        author=author,
        organisation=organisation,
        drafted_at=draft.created_at,
        note_id=note.id,
        reviewed=incident.current_revision > draft.revision and incident.withdrawn_at is None,
    )


def marks(session: Session, key: DataKey, incident_ids: list[uuid.UUID] | None = None) -> Marks:
    """The draft marks of the account whose key this is (of `incident_ids` only, if given)."""
    query = _marks_query(key.account_id)
    if incident_ids is not None:
        if not incident_ids:
            return {}
        query = query.where(IncidentDraft.incident_id.in_(incident_ids))
    return {
        draft.incident_id: _mark(key, draft, note, incident)
        for draft, note, incident in session.execute(query)
    }


def draft_incident(
    session: Session, access: ClientAccess, body: IncidentCreate, facts: ClientFacts
) -> tuple[ClientIncidentOut, bool]:
    """Record `body` in the client's diary as drafted by this caseworker: (view, created).

    A repeat of the same create (same `id` and content) returns the entry as it is now.
    """
    out, created = incidents.create_incident(session, access.key, body)
    if not created:
        access.audit(
            session, audit.INCIDENTS_VIEWED, object_type="incident", object_id=out.id, facts=facts
        )
        return with_mark(out, marks(session, access.key, [out.id])), False
    note = add_note(
        session,
        access,
        _note_text(out),
        extra={"drafted_incident_id": str(out.id), "drafted_revision": str(out.revision)},
    )
    session.add(
        IncidentDraft(
            incident_id=out.id,
            account_id=access.account_id,
            grant_id=access.grant_id,
            note_id=note.id,
            revision=out.revision,
            created_at=note.created_at,
        )
    )
    session.flush()
    access.audit(
        session, audit.INCIDENT_DRAFTED, object_type="incident", object_id=out.id, facts=facts
    )
    return with_mark(out, marks(session, access.key, [out.id])), True


def list_drafts(session: Session, key: DataKey, limit: int, cursor: str | None) -> DraftPage:
    """Entries caseworkers drafted in this account's diary, newest first."""
    query = newest_first(
        _marks_query(key.account_id), IncidentDraft.created_at, IncidentDraft.incident_id, limit,
        cursor,
    )  # fmt: skip
    rows = session.execute(query).all()
    page, next_cursor = split_page(rows, limit, lambda row: (row[0].created_at, row[0].incident_id))
    items = [
        DraftOut(
            incident_id=draft.incident_id,
            current_revision=incident.current_revision,
            withdrawn=incident.withdrawn_at is not None,
            drafted_by=_mark(key, draft, note, incident),
        )
        for draft, note, incident in page
    ]
    return DraftPage(items=items, next_cursor=next_cursor)


def drafted_label(mark: DraftMark) -> str:
    """How the mark reads to an officer, in the viewer and the shared PDF."""
    state = (
        "amended by the victim since"
        if mark.reviewed
        else "not amended by the victim since; the words are the caseworker's"
    )
    return (
        f"Drafted on the victim's behalf by {mark.author}, {mark.organisation} "
        f"on {_day(mark.drafted_at)} ({state})."
    )


def _day(moment: datetime) -> str:
    return f"{moment:%d %b %Y}"
