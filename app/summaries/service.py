"""The course-of-conduct summary of one account, as the API serves it: analysis plus screenings.

The analysis itself is pure (app.chronology.summary); `summarise` loads the diary's facts
through the same filters as GET /v1/incidents, adds the account's S-DASH screenings, and is
what GET /v1/chronology, a caseworker's view of a client and the export jobs all call.
"""

from __future__ import annotations

from pydantic import Field
from sqlalchemy.orm import Session

from app.chronology.model import WITHHELD_WITHOUT_WORDS, without_words
from app.chronology.schemas import Summary
from app.chronology.summary import build_summary
from app.crypto.fields import DataKey
from app.db import utcnow
from app.diary.facts import load_facts
from app.diary.filters import IncidentFilters
from app.models import Account
from app.risk import service as risk_service
from app.risk.schemas import RiskScreening


class ChronologyOut(Summary):
    """The course-of-conduct summary, with the account's S-DASH screenings."""

    risk_screening: RiskScreening
    withheld: list[str] = Field(
        default_factory=list,
        description="What the reader's consent scope leaves out (a caseworker with a `summary` "
        'grant): each named field is empty or null here, and people are shown as "Person 1", '
        '"Person 2". Empty for the diary\'s owner.',
    )


def summarise(
    session: Session, key: DataKey, filters: IncidentFilters, *, words: bool = True
) -> ChronologyOut:
    """The summary for the account whose data key this is.

    With `words=False` it is built from facts without the victim's own words
    (app.chronology.model.without_words), so no part of it can quote them."""
    account = session.get(Account, key.account_id)
    jurisdiction = account.jurisdiction if account else "england_wales"
    incidents, subjects = load_facts(session, key, key.account_id, filters)
    if not words:
        incidents, subjects = without_words(incidents, subjects)
    summary = build_summary(incidents, subjects, generated_at=utcnow(), jurisdiction=jurisdiction)
    screening = risk_service.screening(session, key, incidents, subjects)
    withheld: list[str] = []
    if not words:
        screening = risk_service.without_free_text(screening)
        withheld = list(WITHHELD_WITHOUT_WORDS)
    # Both parts are validated models already: combine without validating 10,000 entries again.
    return ChronologyOut.model_construct(
        **dict(summary), risk_screening=screening, withheld=withheld
    )
