"""S-DASH risk screenings: record answers, read the history, see what the diary suggests."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Cursor, Limit
from app.risk import schemas, service
from app.security.actor import CurrentActor
from app.security.keys import KeyDep

router = APIRouter(tags=["risk"])


@router.post(
    "/v1/risk-assessments",
    operation_id="risk_assessments_create",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.AssessmentOut,
    responses=problem_responses(401, 404, 422),
)
def create_assessment(
    body: schemas.AssessmentIn, actor: CurrentActor, session: SessionDep, key: KeyDep
) -> schemas.AssessmentOut:
    """Record a screening. It identifies risk; it does not predict. The history is kept."""
    return service.record(session, key, body, author=actor.account_id)


@router.get(
    "/v1/risk-assessments",
    operation_id="risk_assessments_list",
    response_model=schemas.AssessmentPage,
    responses=problem_responses(401, 422),
)
def list_assessments(
    actor: CurrentActor,
    session: SessionDep,
    key: KeyDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.AssessmentPage:
    """Every screening, newest first, each with its count of yes answers and any flags."""
    _, subjects = service.diary_facts(session, key)
    return service.history(session, key, subjects, limit=limit, cursor=cursor)


@router.get(
    "/v1/risk-assessments/suggestions",
    operation_id="risk_assessments_suggestions",
    response_model=schemas.SuggestionsOut,
    responses=problem_responses(401, 404, 422),
)
def suggest_answers(
    actor: CurrentActor,
    session: SessionDep,
    key: KeyDep,
    subject_id: Annotated[uuid.UUID | None, Query()] = None,
) -> schemas.SuggestionsOut:
    """The S-DASH questions, and the answers the diary points to with the incidents behind them."""
    incidents, subjects = service.diary_facts(session, key)
    return service.suggestions(incidents, subjects, subject_id)
