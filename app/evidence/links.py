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

from sqlalchemy import select
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
    wanted = [i for i in ids if i not in already]
    known = (
        set(
            session.scalars(
                select(Incident.id).where(
                    Incident.account_id == account_id,
                    Incident.id.in_(wanted),
                    Incident.withdrawn_at.is_(None),
                )
            )
        )
        if wanted
        else set()
    )
    _refuse_unknown(ids, known | set(already), loc, "is not one of your incidents")


def require_evidence(
    session: Session,
    account_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    *,
    already: Collection[uuid.UUID] = (),
    loc: tuple[str, ...] = ("body", "evidence_ids"),
) -> None:
    """422 unless every id not `already` linked is live evidence of this account."""
    wanted = [i for i in ids if i not in already]
    known = (
        set(
            session.scalars(
                select(Evidence.id).where(
                    Evidence.account_id == account_id,
                    Evidence.id.in_(wanted),
                    Evidence.deleted_at.is_(None),
                )
            )
        )
        if wanted
        else set()
    )
    _refuse_unknown(ids, known | set(already), loc, "is not one of your evidence files")


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
