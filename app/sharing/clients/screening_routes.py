"""S-DASH screenings a caseworker records with a client (scope `assist`), over the API.

The same service as the console's screening page (app.sharing.clients.screening): the
diary's suggestions read with the client's key, the screening recorded as the client's own
row, answered by the caseworker, and both written to the client's audit trail.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from app.db import RecordsReads, SessionDep
from app.errors import problem_responses
from app.risk import schemas
from app.security.client import ClientFactsDep
from app.sharing.access import AssistClient
from app.sharing.clients import screening

router = APIRouter(tags=["clients"], dependencies=[RecordsReads])


@router.get(
    "/v1/clients/{client_id}/risk-assessments/suggestions",
    operation_id="clients_risk_assessments_suggestions",
    response_model=schemas.SuggestionsOut,
    responses=problem_responses(401, 403, 404, 422),
)
def client_suggestions(
    access: AssistClient, session: SessionDep, facts: ClientFactsDep
) -> schemas.SuggestionsOut:
    """The S-DASH questions and the answers the client's diary points to (scope `assist`):
    suggestions for you and the client to consider, never answers. Recorded as
    `chronology.viewed`."""
    return screening.suggestions(session, access, facts)


@router.post(
    "/v1/clients/{client_id}/risk-assessments",
    operation_id="clients_risk_assessments_create",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.AssessmentOut,
    responses=problem_responses(401, 403, 404, 422),
)
def record_client_screening(
    body: schemas.CaseworkerAssessmentIn,
    access: AssistClient,
    session: SessionDep,
    facts: ClientFactsDep,
) -> schemas.AssessmentOut:
    """Record an S-DASH screening with the client (scope `assist`): it is theirs, answered by
    you and named as you are; they see it in GET /v1/risk-assessments. Recorded as
    `risk_assessment.recorded`."""
    return screening.record(session, access, body, facts)
