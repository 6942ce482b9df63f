"""Exports a caseworker prepares for a client (scope `assist`): the one place for their rules.

The API (app.exports.jobs.client_routes) and the console both call these. A prepared job is
the client's own, on the client's account and key, marked `requested_by` caseworker with the
grant's id; a caseworker sees the state of the jobs prepared under their grant and no others,
and never their result.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.context import ExportWorkers
from app.errors import NotFound
from app.exports.jobs import service as jobs
from app.exports.jobs.runner import unattended
from app.exports.jobs.schemas import ExportIn, ExportOut
from app.models import ExportJob
from app.security.client import ClientFacts
from app.sharing.access import ClientAccess


def prepare(
    session: Session,
    access: ClientAccess,
    body: ExportIn,
    facts: ClientFacts,
    *,
    limit: int,
) -> tuple[ExportOut, bool]:
    """Queue the export on the client's account: (job, created), as app.exports.jobs.create."""
    return jobs.create(session, access.key, body, access.actor, facts, limit=limit)


def _prepared_here(access: ClientAccess) -> tuple[ColumnElement[bool], ...]:
    return (
        ExportJob.account_id == access.account_id,
        ExportJob.requested_by == "caseworker",
        ExportJob.requested_by_id == str(access.grant_id),
    )


def get_prepared(
    session: Session, access: ClientAccess, export_id: uuid.UUID, runner: ExportWorkers
) -> ExportOut:
    """One job prepared under this grant (any other is 404), started again if unattended."""
    row = jobs.find(session, access.account_id, export_id)
    if row.requested_by != "caseworker" or row.requested_by_id != str(access.grant_id):
        raise NotFound(jobs.EXPORT_NOT_FOUND)
    runner.resume(access.account_id, unattended(session, access.account_id, row.id))
    return jobs.export_out(access.key, row)


def list_prepared(
    session: Session, access: ClientAccess, runner: ExportWorkers, limit: int = 20
) -> list[ExportOut]:
    """The jobs prepared under this grant, newest first; unattended ones are started again."""
    rows = session.scalars(
        select(ExportJob)
        .where(*_prepared_here(access))
        .order_by(ExportJob.created_at.desc(), ExportJob.id.desc())
        .limit(limit)
    ).all()
    waiting = set(unattended(session, access.account_id))
    runner.resume(access.account_id, [row.id for row in rows if row.id in waiting])
    return [jobs.export_out(access.key, row) for row in rows]
