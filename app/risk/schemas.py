"""Bodies for S-DASH risk screenings (DOMAIN.md): answers recorded, never scored as a prediction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from app.chronology.risk import SDASH_QUESTIONS
from app.chronology.schemas import SdashQuestion, SdashResult, Suggestion
from app.schemas import Input

QUESTION_IDS = frozenset(q.id for q in SDASH_QUESTIONS)
AnsweredBy = Literal["victim", "caseworker", "officer"]
Text = Annotated[str, Field(max_length=4000)]


class ScreeningAnswer(Input):
    answer: Literal["yes", "no", "unknown"]
    context: Text | None = Field(None, description="Free text behind the answer (encrypted).")


class AssessmentIn(Input):
    answered_by: AnsweredBy = "victim"
    answerer_name: Annotated[str, Field(max_length=200)] | None = None
    crime_reference: Annotated[str, Field(max_length=100)] | None = None
    subject_id: uuid.UUID | None = None
    answers: dict[str, ScreeningAnswer] = Field(
        description="Keyed by question id (q1 to q11); unanswered questions may be left out.",
        max_length=len(QUESTION_IDS),
    )

    @field_validator("answers")
    @classmethod
    def _known_questions(cls, answers: dict[str, ScreeningAnswer]) -> dict[str, ScreeningAnswer]:
        return known_questions(answers)


def known_questions(answers: dict[str, ScreeningAnswer]) -> dict[str, ScreeningAnswer]:
    unknown = sorted(set(answers) - QUESTION_IDS)
    if unknown:
        raise ValueError(f"unknown question ids: {', '.join(unknown)}")
    return answers


class CaseworkerAssessmentIn(Input):
    """A screening a caseworker records with a client: answered by the caseworker, who is
    named as the client knows them ('Sam Okafor, Safe Haven')."""

    crime_reference: Annotated[str, Field(max_length=100)] | None = None
    answers: dict[str, ScreeningAnswer] = Field(
        description="Keyed by question id (q1 to q11); unanswered questions may be left out.",
        max_length=len(QUESTION_IDS),
    )

    @field_validator("answers")
    @classmethod
    def _known_questions(cls, answers: dict[str, ScreeningAnswer]) -> dict[str, ScreeningAnswer]:
        return known_questions(answers)


class AssessmentOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    answered_by: AnsweredBy
    answerer_name: str | None
    crime_reference: str | None
    subject_id: uuid.UUID | None
    answers: dict[str, ScreeningAnswer]
    result: SdashResult


class AssessmentPage(BaseModel):
    items: list[AssessmentOut]
    next_cursor: str | None


class SuggestionsOut(BaseModel):
    questions: list[SdashQuestion]
    suggestions: list[Suggestion] = Field(
        description="Answers the diary points to, each with its incidents: the person "
        "answering decides."
    )


class RiskScreening(BaseModel):
    """What the course-of-conduct summary shows of the screenings."""

    latest: AssessmentOut | None
    history: list[AssessmentOut]
    suggestions: list[Suggestion]
