"""A subject create planned for a batch (app.planned_writes): the rows, not the ORM flush.

As app.diary.incidents.planned: the same checks and values as `service.create_subject` for
a new subject, returned as rows; a repeated id is left to the service (NotPlannable).
"""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.crypto.fields import DataKey
from app.db import utcnow
from app.diary import revisions as rev
from app.diary.subjects import content
from app.diary.subjects.schemas import SubjectCreate, SubjectOut
from app.diary.subjects.service import field_values
from app.etags import make_etag
from app.integrity import chain
from app.integrity.canonical import content_commitment
from app.models import Subject, SubjectRevision
from app.planned_writes import PlannedWrite, require_new_id

SUBJECTS = cast(Table, Subject.__table__)
REVISIONS = cast(Table, SubjectRevision.__table__)


def plan_subject(
    session: Session, key: DataKey, body: SubjectCreate, appends: chain.PlannedAppend
) -> PlannedWrite:
    """The rows of a new subject and its 201 view; NotPlannable for a repeated id."""
    account_id = key.account_id
    require_new_id(session, Subject, account_id, body.id, appends)
    subject_id, row_id, now, salt = body.id or uuid.uuid4(), uuid.uuid4(), utcnow(), rev.new_salt()
    sealed = content.sealed_content(body)
    commitment = content_commitment(salt, content.document(body.relationship, sealed))
    sealed_blob = rev.seal(
        key, table=content.TABLE, revision_id=row_id, salt=salt, form="content", body=sealed
    )
    event = appends.append(
        account_id, chain.SUBJECT_CREATED, subject_id, 1, None, commitment, recorded_at=now
    )
    subject = {
        "id": subject_id,
        "account_id": account_id,
        "current_revision": 1,
        "recorded_at": now,
        "withdrawn_at": None,
    }
    revision = {
        "id": row_id,
        "account_id": account_id,
        "subject_id": subject_id,
        "revision": 1,
        "chain_seq": event["seq"],
        "recorded_at": now,
        "relationship": body.relationship,
        "content_enc": sealed_blob,
    }
    out = SubjectOut.model_construct(
        **field_values(body),
        id=subject_id,
        revision=1,
        etag=make_etag(1, row_id),
        recorded_at=now,
        updated_at=now,
    )
    return PlannedWrite(rows=((SUBJECTS, subject), (REVISIONS, revision)), value=(out, True))
