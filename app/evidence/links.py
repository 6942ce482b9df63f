"""Links between evidence and incidents, checked the same way from both sides.

An incident lists evidence ids in its revisions; evidence lists incident ids on its record.
Either side may only link the caller's own live objects: another account's id looks unknown.
A link made earlier stays valid when its target is later withdrawn or deleted, so changing
something else about the object never fails on it.

It is one link, read the same from both sides: an incident's `evidence_ids` also shows the live
evidence that names it, and evidence's `incident_ids` the live incidents that list it (as the
chronology's `evidence_count` counts them). What each side stored is unchanged by this; the
ETag of what is read changes with what it shows (app.etags.linked_etag). A revision list and
the change feed show what each revision stored: they are the record of what was written.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.db import from_tags
from app.errors import Unprocessable
from app.models import Evidence, Incident, IncidentRevision
from app.ownership import incident_revisions_join


def require_incidents(
    session: Session,
    account_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    *,
    already: Collection[uuid.UUID] = (),
    loc: tuple[str, ...] = ("body", "incident_ids"),
) -> None:
    """422 unless every id not `already` linked is a live incident of this account."""
    live = select(Incident.id).where(
        Incident.account_id == account_id, Incident.withdrawn_at.is_(None)
    )
    known = _known(session, live, Incident.id, ids, already)
    _refuse_unknown(ids, known, loc, "is not one of your incidents")


def require_evidence(
    session: Session,
    account_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    *,
    already: Collection[uuid.UUID] = (),
    loc: tuple[str, ...] = ("body", "evidence_ids"),
) -> None:
    """422 unless every id not `already` linked is live evidence of this account."""
    if not ids:  # the common case on the write path: not even a statement to build
        return
    live = select(Evidence.id).where(
        Evidence.account_id == account_id, Evidence.deleted_at.is_(None)
    )
    known = _known(session, live, Evidence.id, ids, already)
    _refuse_unknown(ids, known, loc, "is not one of your evidence files")


def _known(
    session: Session,
    live: Select[uuid.UUID],
    id_column: Any,
    ids: Sequence[uuid.UUID],
    already: Collection[uuid.UUID],
) -> set[uuid.UUID]:
    """The ids that are `already` linked or among the account's `live` objects."""
    wanted = [i for i in ids if i not in already]
    found = set(session.scalars(live.where(id_column.in_(wanted)))) if wanted else set()
    return found | set(already)


def _refuse_unknown(
    ids: Sequence[uuid.UUID], known: set[uuid.UUID], loc: tuple[str, ...], msg: str
) -> None:
    errors: list[dict[str, Any]] = [
        {"loc": [*loc, index], "msg": msg}
        for index, object_id in enumerate(ids)
        if object_id not in known
    ]
    if errors:
        raise Unprocessable(f"Some of {loc[-1]} are not yours.", extra={"errors": errors})


def _naming(column: Any, ids: Collection[uuid.UUID]) -> Any:
    """A tag column (`|id|id|`) that names any of `ids`."""
    return or_(*(column.contains(f"|{i}|", autoescape=True) for i in ids))


def evidence_naming(
    session: Session, account_id: uuid.UUID, incident_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """For each incident, the live evidence that names it from the evidence side."""
    found: dict[uuid.UUID, set[uuid.UUID]] = {i: set() for i in incident_ids}
    if not incident_ids:
        return found
    rows = session.execute(
        select(Evidence.id, Evidence.incident_ids).where(
            Evidence.account_id == account_id,
            Evidence.deleted_at.is_(None),
            _naming(Evidence.incident_ids, incident_ids),
        )
    )
    for evidence_id, tags in rows:
        for value in from_tags(tags):
            incident_id = uuid.UUID(value)
            if incident_id in found:
                found[incident_id].add(evidence_id)
    return found


def incidents_listing(
    session: Session, account_id: uuid.UUID, evidence_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """For each evidence file, the live incidents whose current revision lists it."""
    found: dict[uuid.UUID, set[uuid.UUID]] = {i: set() for i in evidence_ids}
    if not evidence_ids:
        return found
    rows = session.execute(
        select(Incident.id, IncidentRevision.evidence_ids)
        .join(IncidentRevision, incident_revisions_join())
        .where(
            Incident.account_id == account_id,
            Incident.withdrawn_at.is_(None),
            IncidentRevision.revision == Incident.current_revision,
            _naming(IncidentRevision.evidence_ids, evidence_ids),
        )
    )
    for incident_id, tags in rows:
        for value in from_tags(tags):
            evidence_id = uuid.UUID(value)
            if evidence_id in found:
                found[evidence_id].add(incident_id)
    return found
