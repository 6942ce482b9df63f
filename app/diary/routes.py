"""Diary-wide routes: the taxonomy, the sync feed and the integrity check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.chronology.codes import taxonomy_document
from app.db import SessionDep
from app.diary import sync
from app.diary.schemas import IntegrityReport, SyncPage
from app.errors import problem_responses
from app.integrity.gather import verify_diary
from app.pagination import Cursor, Limit
from app.security.keys import KeyDep

router = APIRouter(tags=["diary"])


@router.get("/v1/taxonomy", operation_id="taxonomy_get", response_model=dict[str, Any])
def get_taxonomy() -> dict[str, Any]:
    """The versioned codes incidents and subjects use: behaviours, channels, impacts, orders."""
    return taxonomy_document()


@router.get(
    "/v1/sync",
    operation_id="sync_list",
    response_model=SyncPage,
    responses=problem_responses(401, 422),
)
def list_changes(
    key: KeyDep, session: SessionDep, limit: Limit = 100, cursor: Cursor = None
) -> SyncPage:
    """Every change since `cursor` (none: from the start), in order, with a cursor to resume."""
    return sync.changes(session, key, cursor, limit)


@router.get(
    "/v1/diary/integrity",
    operation_id="diary_integrity_get",
    response_model=IntegrityReport,
    responses=problem_responses(401),
)
def check_integrity(key: KeyDep, session: SessionDep) -> IntegrityReport:
    """Re-verify the whole chain against the stored diary; `broken_at` is the first bad seq."""
    result = verify_diary(session, key)
    return IntegrityReport(
        ok=result.ok,
        length=result.length,
        head=result.head,
        broken_at=result.broken_at,
        reason=result.reason,
    )
