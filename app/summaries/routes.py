"""GET /v1/chronology: the course-of-conduct summary of the caller's own diary.

The route parses the filters and serialises what app.summaries.service.summarise builds.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.db import SessionDep
from app.diary.filters import IncidentFiltersDep
from app.errors import problem_responses
from app.security.actor import CurrentActor
from app.security.keys import KeyDep
from app.summaries.service import ChronologyOut, summarise

router = APIRouter(tags=["chronology"])


@router.get(
    "/v1/chronology",
    operation_id="chronology_get",
    response_model=ChronologyOut,
    responses=problem_responses(401, 422),
)
def get_chronology(
    actor: CurrentActor, session: SessionDep, key: KeyDep, filters: IncidentFiltersDep
) -> Response:
    """The course-of-conduct summary: every statement cites the incidents behind it.

    Indicators for an officer to consider, never a legal finding. Filters as GET /v1/incidents.
    """
    summary = summarise(session, key, filters)
    # Serialised once here; the model already validated it, and a 10,000-incident summary is
    # large enough that FastAPI's second validation pass would double the cost.
    return Response(summary.model_dump_json(), media_type="application/json")
