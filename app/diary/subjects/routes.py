"""Subject routes: thin; the rules are in app.diary.subjects.service."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Response, status

from app.db import SessionDep
from app.diary.schemas import WithdrawIn
from app.diary.subjects import service
from app.diary.subjects.planned import plan_subject
from app.diary.subjects.schemas import (
    SubjectCreate,
    SubjectOut,
    SubjectPage,
    SubjectPatch,
    SubjectRevisionPage,
)
from app.errors import problem_responses
from app.etags import IfMatch
from app.group_commit import GroupCommitDep
from app.pagination import Cursor, Limit
from app.security.actor import AccessTokenDep
from app.security.keys import KeyDep

router = APIRouter(tags=["subjects"])

_REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"model": SubjectOut, "description": "A repeated create: the original subject."}
}


def _written(out: SubjectOut, status_code: int, created_id: uuid.UUID | None = None) -> Response:
    """The written subject's JSON, serialised once (`response_model` still documents it)."""
    headers = {"ETag": out.etag}
    if created_id is not None:
        headers["Location"] = f"/v1/subjects/{created_id}"
    return Response(out.model_dump_json(), status_code, headers, media_type="application/json")


@router.post(
    "/v1/subjects",
    operation_id="subjects_create",
    status_code=status.HTTP_201_CREATED,
    response_model=SubjectOut,
    responses={**_REPLAY, **problem_responses(401, 409, 410, 413, 422)},
)
async def create_subject(
    body: SubjectCreate, token: AccessTokenDep, writes: GroupCommitDep
) -> Response:
    """Add a person responsible. Sending the same `id` and content again returns it with 200."""
    out, created = await writes.run(
        token,
        lambda s, key: service.create_subject(s, key, body),
        plan=lambda s, key, appends: plan_subject(s, key, body, appends),
    )
    return _written(out, status.HTTP_201_CREATED if created else status.HTTP_200_OK, out.id)


@router.get(
    "/v1/subjects",
    operation_id="subjects_list",
    response_model=SubjectPage,
    responses=problem_responses(401, 422),
)
def list_subjects(
    key: KeyDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SubjectPage:
    """Live subjects, oldest first."""
    return service.list_subjects(session, key, limit, cursor)


@router.get(
    "/v1/subjects/{subject_id}",
    operation_id="subjects_get",
    response_model=SubjectOut,
    responses=problem_responses(401, 404, 410, 422),
)
def get_subject(
    subject_id: uuid.UUID, response: Response, key: KeyDep, session: SessionDep
) -> SubjectOut:
    """One person in your diary, as recorded now."""
    out = service.get_view(session, key, subject_id)
    response.headers["ETag"] = out.etag
    return out


@router.patch(
    "/v1/subjects/{subject_id}",
    operation_id="subjects_update",
    response_model=SubjectOut,
    responses=problem_responses(401, 404, 410, 412, 413, 422, 428),
)
async def amend_subject(
    subject_id: uuid.UUID,
    body: SubjectPatch,
    token: AccessTokenDep,
    writes: GroupCommitDep,
    if_match: IfMatch = None,
) -> Response:
    """Amend: a new revision; earlier ones stay listed. 412 carries the current version."""
    out = await writes.run(
        token, lambda s, key: service.amend_subject(s, key, subject_id, body, if_match)
    )
    return _written(out, status.HTTP_200_OK)


@router.delete(
    "/v1/subjects/{subject_id}",
    operation_id="subjects_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404, 412, 413, 422, 428),
)
def withdraw_subject(
    subject_id: uuid.UUID,
    key: KeyDep,
    session: SessionDep,
    body: WithdrawIn | None = Body(None),
    if_match: IfMatch = None,
) -> Response:
    """Withdraw: the content is erased; incidents keep the id; the chain keeps the record."""
    reason = body.reason if body else None
    service.withdraw_subject(session, key, subject_id, if_match, reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/subjects/{subject_id}/revisions",
    operation_id="subjects_revisions_list",
    response_model=SubjectRevisionPage,
    responses=problem_responses(401, 404, 422),
)
def list_revisions(
    subject_id: uuid.UUID,
    key: KeyDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SubjectRevisionPage:
    """Every revision, oldest first, withdrawn subjects included (their content erased)."""
    return service.list_revisions(session, key, subject_id, limit, cursor)
