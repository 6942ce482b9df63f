"""GET /v1/me/export: a copy of everything the caller's account holds (`archive`).

Victims only: it is their diary and record. The download is recorded in their audit trail as
`account.exported` before anything is read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from app.audit import record as audit
from app.bodies import NOT_JSON, takes
from app.context import CtxDep
from app.db import RecordsReads, SessionDep, utcnow
from app.errors import problem_responses
from app.exports.account.archive import account_zip, documents
from app.security.client import ClientFactsDep
from app.security.keys import actor_key
from app.security.roles import VictimActor

router = APIRouter(tags=["accounts"])

_ZIP: dict[int | str, dict[str, Any]] = {
    200: {"description": "The zip, made while it is sent.", "content": {"application/zip": {}}}
}


@router.get(
    "/v1/me/export",
    operation_id="me_export",
    response_class=Response,
    responses={**_ZIP, **problem_responses(401, 403)},
    dependencies=[RecordsReads],
)
@takes(NOT_JSON)
def export_account(
    victim: VictimActor, session: SessionDep, ctx: CtxDep, facts: ClientFactsDep
) -> Response:
    """Everything your account holds, decrypted: your diary with every revision, evidence
    files, risk screenings, grants, shares, notes, exports and audit trail, as JSON and files.

    Keep it safe: it is not encrypted. Recorded in your audit trail as `account.exported`.
    """
    key = actor_key(ctx.keyring, victim)
    audit.record_audit(
        session,
        key,
        audit.AuditActor.victim(victim.account_id),
        audit.ACCOUNT_EXPORTED,
        object_type="account",
        object_id=victim.account_id,
        facts=facts,
    )
    # The audit row is committed before anything is read; the reading (every revision of
    # the diary, the audit trail...) then holds no write lock.
    session.commit()
    with ctx.sessionmaker() as reader:
        docs, files = documents(ctx, reader, victim, key)
    name = f"chronicle-account-{utcnow():%Y%m%d}.zip"
    return StreamingResponse(
        account_zip(ctx, key, docs, files),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
