"""Links between evidence and incidents, checked the same way from both sides.

An incident lists evidence ids in its revisions; evidence lists incident ids on its record.
Either side may only link the caller's own live objects: another account's id looks unknown.
A link made earlier stays valid when its target is later withdrawn or deleted, so changing
something else about the object never fails on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.models import Evidence, Incident


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
