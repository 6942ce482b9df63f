"""What a caseworker reads of a client's diary, within the client's consent.

Every function takes a `ClientAccess` (from app.sharing.access, re-checked on every request)
and reads with the client's data key through the diary's and evidence's own services, so the
caseworker sees exactly what the client would, and nothing of any other account. Each read is
written to the client's audit trail in the same transaction, before the response is built;
a file download is recorded once the file is found and before any of it is sent.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.audit import record as audit
from app.context import AppContext
from app.diary.filters import IncidentFilters
from app.diary.incidents import service as incidents
from app.diary.incidents.schemas import IncidentRevisionPage
from app.evidence import download
from app.evidence import service as evidence
from app.evidence.schemas import EvidenceOut, EvidencePage
from app.security.client import ClientFacts
from app.sharing import drafts
from app.sharing.access import ClientAccess
from app.sharing.shares.schemas import ClientIncidentOut, ClientIncidentPage
from app.summaries.service import ChronologyOut, summarise


def _filter_details(filters: IncidentFilters) -> dict[str, str]:
    details = {}
    if filters.occurred_from is not None:
        details["from"] = filters.occurred_from.isoformat()
    if filters.occurred_to is not None:
        details["to"] = filters.occurred_to.isoformat()
    if filters.subject_ids:
        details["subjects"] = str(len(filters.subject_ids))
    if filters.behaviours:
        details["behaviours"] = ",".join(filters.behaviours)
    return details


def chronology(
    session: Session, access: ClientAccess, filters: IncidentFilters, facts: ClientFacts
) -> ChronologyOut:
    access.audit(
        session,
        audit.CHRONOLOGY_VIEWED,
        object_type="grant",
        object_id=access.grant_id,
        facts=facts,
        details=_filter_details(filters),
    )
    return summarise(session, access.key, filters, words=access.words)


def list_incidents(
    session: Session,
    access: ClientAccess,
    filters: IncidentFilters,
    limit: int,
    cursor: str | None,
    facts: ClientFacts,
) -> ClientIncidentPage:
    page = incidents.list_incidents(session, access.key, filters, limit, cursor)
    access.audit(
        session,
        audit.INCIDENTS_VIEWED,
        object_type="grant",
        object_id=access.grant_id,
        facts=facts,
        details={**_filter_details(filters), "count": str(len(page.items))},
    )
    marks = drafts.marks(session, access.key, [item.id for item in page.items])
    return ClientIncidentPage(
        items=[drafts.with_mark(item, marks) for item in page.items],
        next_cursor=page.next_cursor,
    )


def get_incident(
    session: Session, access: ClientAccess, incident_id: uuid.UUID, facts: ClientFacts
) -> ClientIncidentOut:
    out = incidents.get_view(session, access.key, incident_id)
    access.audit(
        session, audit.INCIDENTS_VIEWED, object_type="incident", object_id=incident_id, facts=facts
    )
    return drafts.with_mark(out, drafts.marks(session, access.key, [incident_id]))


def list_revisions(
    session: Session,
    access: ClientAccess,
    incident_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    facts: ClientFacts,
) -> IncidentRevisionPage:
    """An incident's revisions, oldest first, as the client reads them (scope `diary`)."""
    page = incidents.list_revisions(session, access.key, incident_id, limit, cursor)
    access.audit(
        session,
        audit.INCIDENTS_VIEWED,
        object_type="incident",
        object_id=incident_id,
        facts=facts,
        details={"revisions": str(len(page.items))},
    )
    return page


def list_evidence(
    session: Session,
    access: ClientAccess,
    incident_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    facts: ClientFacts,
) -> EvidencePage:
    page = evidence.list_evidence(session, access.key, incident_id, limit, cursor)
    details = {"count": str(len(page.items))}
    if incident_id is not None:
        details["incident"] = str(incident_id)
    access.audit(
        session,
        audit.EVIDENCE_VIEWED,
        object_type="grant",
        object_id=access.grant_id,
        facts=facts,
        details=details,
    )
    return page


def get_evidence(
    session: Session, access: ClientAccess, evidence_id: uuid.UUID, facts: ClientFacts
) -> EvidenceOut:
    [out] = evidence.linked_out(
        session, access.key, [evidence.get_live(session, access.account_id, evidence_id)]
    )
    access.audit(
        session, audit.EVIDENCE_VIEWED, object_type="evidence", object_id=evidence_id, facts=facts
    )
    return out


def open_evidence(
    ctx: AppContext,
    session: Session,
    access: ClientAccess,
    evidence_id: uuid.UUID,
    facts: ClientFacts,
) -> download.Opened:
    """The client's file, ready to send, and its download recorded (404/410 as for the record).

    The audit row is committed before the blob store is asked anything, so the request's write
    transaction (SQLite's write lock, the grant row's share lock) is not open across the
    store's I/O, the wait for a transfer thread or the client's network."""
    row = evidence.get_live(session, access.account_id, evidence_id)
    access.audit(
        session,
        audit.EVIDENCE_DOWNLOADED,
        object_type="evidence",
        object_id=evidence_id,
        facts=facts,
    )
    session.commit()
    return download.open_row(ctx, access.key, row)
