"""A caseworker records an S-DASH screening for a client (scope `assist`).

The questions and the diary's suggested answers come from app.risk.service, read with the
client's data key exactly as the client's own GET /v1/risk-assessments/suggestions reads them;
the suggestions are only that: the caseworker answers. The screening is recorded through
app.risk.service.record as the client's own row, sealed under the client's key, answered by
`caseworker` and authored by the caseworker's account, and written to the client's audit
trail (`risk_assessment.recorded`) in the same transaction. Reading the suggestions is a read
of the client's diary, so it is recorded too (`chronology.viewed`, the screening part).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.audit import record as audit
from app.risk import schemas, service
from app.security.client import ClientFacts
from app.sharing.access import ClientAccess


def suggestions(
    session: Session, access: ClientAccess, facts: ClientFacts
) -> schemas.SuggestionsOut:
    """The S-DASH questions and what the client's diary suggests for them."""
    incidents, subjects = service.diary_facts(session, access.key)
    access.audit(
        session,
        audit.CHRONOLOGY_VIEWED,
        object_type="grant",
        object_id=access.grant_id,
        facts=facts,
        details={"part": "screening suggestions"},
    )
    return service.suggestions(incidents, subjects)


def record(
    session: Session,
    access: ClientAccess,
    given: schemas.CaseworkerAssessmentIn,
    facts: ClientFacts,
) -> schemas.AssessmentOut:
    """The caseworker's screening, in the client's record under the caseworker's name."""
    body = schemas.AssessmentIn(
        answered_by="caseworker",
        answerer_name=access.caseworker.signature[:200],
        crime_reference=given.crime_reference,
        answers=given.answers,
    )
    out = service.record(session, access.key, body, author=access.caseworker.account_id)
    access.audit(
        session,
        audit.RISK_ASSESSMENT_RECORDED,
        object_type="risk_assessment",
        object_id=out.id,
        facts=facts,
        details={"answered": str(out.result.answered_count), "yes": str(out.result.yes_count)},
    )
    return out
