"""Risk screenings: record them sealed, list the history, suggest answers from the diary."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.chronology.model import IncidentFacts, SubjectFacts
from app.chronology.risk import SDASH_QUESTIONS, sdash_result, suggest_sdash_answers
from app.crypto.fields import DataKey, decrypt_field, encrypt_field
from app.db import utcnow
from app.diary.facts import load_facts
from app.diary.filters import IncidentFilters
from app.errors import NotFound
from app.models import RiskAssessment
from app.ownership import get_subject
from app.pagination import cursor_datetime, cursor_uuid, decode_cursor, encode_cursor
from app.risk import schemas

TABLE = "risk_assessments"


def record(
    session: Session, key: DataKey, body: schemas.AssessmentIn, *, author: uuid.UUID
) -> schemas.AssessmentOut:
    if body.subject_id is not None:
        get_subject(session, key.account_id, body.subject_id)  # 404 unless it is theirs
    row = RiskAssessment(
        id=uuid.uuid4(),
        account_id=key.account_id,
        answered_by=body.answered_by,
        author_account_id=author,
        subject_id=body.subject_id,
        created_at=utcnow(),
    )
    document = {
        "answers": {qid: a.model_dump() for qid, a in sorted(body.answers.items())},
        "answerer_name": body.answerer_name,
        "crime_reference": body.crime_reference,
    }
    row.content_enc = encrypt_field(
        key, json.dumps(document, ensure_ascii=False), table=TABLE, column="content",
        row_id=row.id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return _out(key, row, relationship=None)


def _out(key: DataKey, row: RiskAssessment, relationship: str | None) -> schemas.AssessmentOut:
    text = decrypt_field(key, row.content_enc, table=TABLE, column="content", row_id=row.id)
    document: dict[str, Any] = json.loads(text)
    answers = {qid: schemas.ScreeningAnswer(**a) for qid, a in document["answers"].items()}
    return schemas.AssessmentOut(
        id=row.id,
        created_at=row.created_at,
        answered_by=row.answered_by,
        answerer_name=document["answerer_name"],
        crime_reference=document["crime_reference"],
        subject_id=row.subject_id,
        answers=answers,
        result=sdash_result(
            {qid: a.answer for qid, a in answers.items()}, relationship=relationship
        ),
    )


def history(
    session: Session,
    key: DataKey,
    subjects: Sequence[SubjectFacts],
    *,
    limit: int,
    cursor: str | None = None,
) -> schemas.AssessmentPage:
    query = (
        select(RiskAssessment)
        .where(RiskAssessment.account_id == key.account_id)
        .order_by(RiskAssessment.created_at.desc(), RiskAssessment.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        created, row_id = decode_cursor(cursor, 2)
        query = query.where(
            tuple_(RiskAssessment.created_at, RiskAssessment.id)
            < tuple_(cursor_datetime(created), cursor_uuid(row_id))
        )
    rows = session.scalars(query).all()
    relationships: dict[uuid.UUID | None, str] = {s.id: s.relationship for s in subjects}
    items = [_out(key, r, relationships.get(r.subject_id)) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.created_at.isoformat(), str(last.id))
    return schemas.AssessmentPage(items=items, next_cursor=next_cursor)


def suggestions(
    incidents: Sequence[IncidentFacts],
    subjects: Sequence[SubjectFacts],
    subject_id: uuid.UUID | None = None,
) -> schemas.SuggestionsOut:
    if subject_id is not None and subject_id not in {s.id for s in subjects}:
        # Another account's subject is as unknown as one that never existed.
        raise NotFound("Subject not found.")
    return schemas.SuggestionsOut(
        questions=list(SDASH_QUESTIONS),
        suggestions=suggest_sdash_answers(
            incidents, subjects, as_of=utcnow(), subject_id=subject_id
        ),
    )


def diary_facts(session: Session, key: DataKey) -> tuple[list[IncidentFacts], list[SubjectFacts]]:
    return load_facts(session, key, key.account_id, IncidentFilters())


def screening(
    session: Session,
    key: DataKey,
    incidents: Sequence[IncidentFacts],
    subjects: Sequence[SubjectFacts],
) -> schemas.RiskScreening:
    """The screening section of the summary: latest answers, history, diary suggestions."""
    page = history(session, key, subjects, limit=50)
    return schemas.RiskScreening(
        latest=page.items[0] if page.items else None,
        history=page.items,
        suggestions=suggest_sdash_answers(incidents, subjects, as_of=utcnow()),
    )


def without_free_text(screening: schemas.RiskScreening) -> schemas.RiskScreening:
    """The screenings as yes / no / unknown only: no context typed behind an answer, no
    answerer's name and no crime reference (for a reader whose consent excludes the words)."""

    def answers_only(item: schemas.AssessmentOut) -> schemas.AssessmentOut:
        answers = {q: schemas.ScreeningAnswer(answer=a.answer) for q, a in item.answers.items()}
        return item.model_copy(
            update={"answers": answers, "answerer_name": None, "crime_reference": None}
        )

    history = [answers_only(item) for item in screening.history]
    return screening.model_copy(
        update={"latest": history[0] if history else None, "history": history}
    )
