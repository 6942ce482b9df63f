"""An incident create planned for a batch (app.planned_writes): the rows, not the ORM flush.

`plan_incident` does what `service.create_incident` does for a new incident, in the same
order and with the same checks, but returns its three rows (incident, first revision, chain
event) for the batch to insert with everyone else's. A create that names an id this account
already has (a replay, or a conflict), or one already used earlier in the same batch, is not
planned: the service decides it, after the batch's planned rows are in, as it always has.
"""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.crypto.fields import DataKey
from app.db import utcnow
from app.diary import revisions as rev
from app.diary.incidents import content
from app.diary.incidents.schemas import IncidentCreate, IncidentOut
from app.diary.incidents.service import field_values
from app.diary.subjects.service import require_subjects
from app.etags import make_etag
from app.evidence.links import require_evidence
from app.integrity import chain
from app.integrity.canonical import content_commitment
from app.models import Incident, IncidentRevision
from app.planned_writes import PlannedWrite, require_new_id

INCIDENTS = cast(Table, Incident.__table__)
REVISIONS = cast(Table, IncidentRevision.__table__)


def plan_incident(
    session: Session, key: DataKey, body: IncidentCreate, appends: chain.PlannedAppend
) -> PlannedWrite:
    """The rows of a new incident and its 201 view; NotPlannable for a repeated id."""
    account_id = key.account_id
    require_new_id(session, Incident, account_id, body.id, appends)
    require_subjects(session, account_id, body.subject_ids)
    require_evidence(session, account_id, body.evidence_ids)
    incident_id, row_id, now, salt = body.id or uuid.uuid4(), uuid.uuid4(), utcnow(), rev.new_salt()
    sealed = content.sealed_content(body)
    columns = content.plain_columns(body)
    commitment = content_commitment(salt, content.document(columns, sealed))
    sealed_blob = rev.seal(
        key, table=content.TABLE, revision_id=row_id, salt=salt, form="content", body=sealed
    )
    event = appends.append(
        account_id,
        chain.INCIDENT_CREATED,
        incident_id,
        1,
        body.occurred_at,
        commitment,
        recorded_at=now,
    )
    incident = {
        "id": incident_id,
        "account_id": account_id,
        "current_revision": 1,
        "recorded_at": now,
        "occurred_at": body.occurred_at,
        "withdrawn_at": None,
    }
    revision = {
        "id": row_id,
        "account_id": account_id,
        "incident_id": incident_id,
        "revision": 1,
        "chain_seq": event["seq"],
        "recorded_at": now,
        "content_enc": sealed_blob,
        **columns,
    }
    out = IncidentOut.model_construct(
        **field_values(body),
        id=incident_id,
        revision=1,
        etag=make_etag(1, row_id),
        recorded_at=now,
        updated_at=now,
    )
    return PlannedWrite(rows=((INCIDENTS, incident), (REVISIONS, revision)), value=(out, True))
