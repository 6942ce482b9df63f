"""Helping a client (scope `assist`): an S-DASH screening, and exports prepared for them.

The screening form shows the diary's suggested answers beside the questions, as suggestions:
nothing is ticked for the caseworker. It is saved through app.sharing.clients.screening as
answered by the caseworker, in the client's record and audit trail. An export is prepared
through app.exports.jobs.prepared, the caseworker API's own service: the job is the client's,
they download it in their app, and this page shows its state. The export form carries a
fresh id, so sending it twice (a double click, a resubmitted page) queues one job, not two.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.bodies import NOT_JSON, takes
from app.chronology.risk import SDASH_QUESTIONS
from app.console import pages
from app.console.auth import ConsoleUserDep, PostedUser
from app.console.client_access import P, client_access, client_context
from app.context import CtxDep
from app.db import SessionDep
from app.errors import Unprocessable
from app.exports.jobs import prepared
from app.exports.jobs import service as jobs
from app.exports.jobs.runner import RunnerDep
from app.exports.jobs.schemas import ExportIn
from app.risk.schemas import CaseworkerAssessmentIn, ScreeningAnswer
from app.security.client import ClientFactsDep
from app.sharing.clients import screening

router = APIRouter(include_in_schema=False)
ANSWERS = ("yes", "no", "unknown")
FORMATS = (
    ("pdf", "The signed PDF chronology"),
    ("bundle", "The evidence bundle: a signed zip an officer can check offline"),
    ("json", "The chronology as data (JSON)"),
)


@router.get(P + "/screening")
@takes(NOT_JSON)
def screening_form(
    client_id: uuid.UUID,
    user: ConsoleUserDep,
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """The S-DASH questions, each with what the diary suggests, for the caseworker to answer."""
    access = client_access(user, session, ctx, client_id, "assist")
    found = screening.suggestions(session, access, facts)
    suggested = {s.question_id: s for s in found.suggestions}
    return pages.page(
        "screening.html",
        **client_context(user, access),
        questions=found.questions,
        suggested=suggested,
        answers=ANSWERS,
    )


def parse_answers(form: Mapping[str, str]) -> dict[str, ScreeningAnswer]:
    """The answered questions of the form (an unanswered one is left out, as the API allows)."""
    answers = {}
    for question in SDASH_QUESTIONS:
        answer = form.get(question.id, "")
        context = form.get(f"{question.id}-context", "").strip() or None
        if not answer:
            continue
        try:
            answers[question.id] = ScreeningAnswer(answer=answer, context=context)
        except ValidationError as exc:
            raise Unprocessable(f"The answer to question {question.id[1:]} was not saved.") from exc
    if not answers:
        raise Unprocessable("Answer at least one question before saving the screening.")
    return answers


async def posted_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (already parsed by FastAPI for the CSRF token)."""
    posted = await request.form()
    return {name: value for name, value in posted.items() if isinstance(value, str)}


@router.post(P + "/screening")
@takes(NOT_JSON)
def record_screening(
    client_id: uuid.UUID,
    user: PostedUser,
    form: Annotated[dict[str, str], Depends(posted_fields)],
    session: SessionDep,
    ctx: CtxDep,
    facts: ClientFactsDep,
) -> Response:
    """Save the screening as the caseworker's answers; the chronology shows it as the latest."""
    access = client_access(user, session, ctx, client_id, "assist")
    answers = parse_answers(form)
    try:
        body = CaseworkerAssessmentIn(
            answers=answers, crime_reference=form.get("crime_reference", "").strip() or None
        )
    except ValidationError as exc:
        raise Unprocessable("The crime reference can be at most 100 characters.") from exc
    screening.record(session, access, body, facts)
    return RedirectResponse(f"/console/clients/{client_id}#screening", status_code=303)


STATUS_WORDS = {
    "queued": "Waiting to start",
    "running": "Being made",
    "done": "Ready: the client can download it in their app",
    "failed": "Could not be made",
    "expired": "No longer available",
}


@router.get(P + "/exports")
@takes(NOT_JSON)
def exports_page(
    client_id: uuid.UUID,
    user: ConsoleUserDep,
    session: SessionDep,
    ctx: CtxDep,
    runner: RunnerDep,
) -> Response:
    """A form to prepare an export for the client, and the state of those prepared so far."""
    access = client_access(user, session, ctx, client_id, "assist")
    return pages.page(
        "exports.html",
        **client_context(user, access),
        exports=prepared.list_prepared(session, access, runner),
        formats=FORMATS,
        format_words=dict(FORMATS),
        status_words=STATUS_WORDS,
        form_id=uuid.uuid4(),
    )


@router.post(P + "/exports")
@takes(NOT_JSON)
def prepare_export(
    client_id: uuid.UUID,
    user: PostedUser,
    session: SessionDep,
    ctx: CtxDep,
    runner: RunnerDep,
    background: BackgroundTasks,
    facts: ClientFactsDep,
    form_id: Annotated[uuid.UUID | None, Form()] = None,
    format: Annotated[str, Form(max_length=20)] = "",
    include_evidence: Annotated[str, Form(max_length=10)] = "",
    identification: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Queue the export on the client's account; it is made in the background."""
    access = client_access(user, session, ctx, client_id, "assist")
    try:
        body = ExportIn(
            id=form_id,
            format=format,
            include_evidence=include_evidence == "yes",
            identification=identification.strip() or None,
        )
    except ValidationError as exc:
        raise Unprocessable("Choose what to export before preparing it.") from exc
    limit = ctx.settings.max_export_jobs
    out, _created = prepared.prepare(session, access, body, facts, limit=limit)
    if out.status in jobs.PENDING:
        background.add_task(runner.start, out.id, access.account_id)
    return RedirectResponse(f"/console/clients/{client_id}/exports#prepared", status_code=303)
