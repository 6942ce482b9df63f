"""`record_audit`: the one way any domain writes to the audit trail.

Call it inside the request's transaction, next to the change or read it records, so the row
commits or rolls back with it (the session dependency commits; this only adds to the session).
A read by someone other than the account holder is recorded before the response is built: if
the audit row cannot be written, the data is not shown.

Who acted is an `AuditActor`: a kind, an opaque id the account holder can relate to something
they know (their own account id, the grant id for a caseworker, the share link id for an
officer), and a display name that is sealed with the context, so the log still reads
"Sam Okafor, Safe Haven" after that caseworker's account is gone.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.crypto.fields import DataKey, decrypt_field, encrypt_field
from app.db import utcnow
from app.models import AuditEvent
from app.security.client import ClientFacts

ActorKind = Literal["victim", "caseworker", "share_link", "admin", "system", "anonymous"]

# Actions other domains record. Add to this list rather than inventing names at call sites.
GRANT_CREATED = "grant.created"
GRANT_REVOKED = "grant.revoked"
CLIENT_VIEWED = "client.viewed"
NOTE_CREATED = "note.created"
NOTES_VIEWED = "notes.viewed"
CHRONOLOGY_VIEWED = "chronology.viewed"
INCIDENTS_VIEWED = "incidents.viewed"
INCIDENT_DRAFTED = "incident.drafted"
EVIDENCE_VIEWED = "evidence.viewed"
EVIDENCE_DOWNLOADED = "evidence.downloaded"
SHARE_CREATED = "share.created"
SHARE_REVOKED = "share.revoked"
SHARE_ACCESSED = "share.accessed"
SHARE_PASSCODE_FAILED = "share.passcode_failed"
EXPORT_CREATED = "export.created"
RISK_ASSESSMENT_RECORDED = "risk_assessment.recorded"
EXPORT_DOWNLOADED = "export.downloaded"
ACCOUNT_EXPORTED = "account.exported"

ACTIONS = frozenset(
    {
        GRANT_CREATED,
        GRANT_REVOKED,
        CLIENT_VIEWED,
        NOTE_CREATED,
        NOTES_VIEWED,
        CHRONOLOGY_VIEWED,
        INCIDENTS_VIEWED,
        INCIDENT_DRAFTED,
        EVIDENCE_VIEWED,
        EVIDENCE_DOWNLOADED,
        SHARE_CREATED,
        SHARE_REVOKED,
        SHARE_ACCESSED,
        SHARE_PASSCODE_FAILED,
        EXPORT_CREATED,
        RISK_ASSESSMENT_RECORDED,
        EXPORT_DOWNLOADED,
        ACCOUNT_EXPORTED,
    }
)

_OBJECT_TYPE = re.compile(r"^[a-z_]{1,40}$")
_TABLE, _COLUMN = "audit_events", "context"


@dataclass(frozen=True)
class AuditActor:
    kind: ActorKind
    id: str | None = None
    name: str | None = None

    @classmethod
    def victim(cls, account_id: uuid.UUID) -> AuditActor:
        return cls("victim", str(account_id))


SYSTEM = AuditActor("system")


def record_audit(
    session: Session,
    key: DataKey,
    actor: AuditActor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: uuid.UUID | None = None,
    facts: ClientFacts | None = None,
    details: Mapping[str, str] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail of `key.account_id` (whose data it concerns).

    `key` is that account's data key: the context (address, user agent, actor name, details)
    is sealed under it. `details` are short facts for the account holder ("scope": "diary");
    never put diary content in them.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if object_type is not None and not _OBJECT_TYPE.match(object_type):
        raise ValueError(f"bad audit object type {object_type!r}")
    event = AuditEvent(
        id=uuid.uuid4(),
        account_id=key.account_id,
        actor_kind=actor.kind,
        actor_id=actor.id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        created_at=utcnow(),
    )
    context: dict[str, Any] = {}
    if facts is not None:
        context["address"] = facts.address
        context["user_agent"] = facts.user_agent
    if actor.name is not None:
        context["actor_name"] = actor.name
    if details:
        context["details"] = dict(details)
    if context:
        event.context_enc = encrypt_field(
            key, json.dumps(context), table=_TABLE, column=_COLUMN, row_id=event.id
        )
    session.add(event)
    return event


def audit_context(key: DataKey, event: AuditEvent) -> dict[str, Any]:
    if event.context_enc is None:
        return {}
    text = decrypt_field(key, event.context_enc, table=_TABLE, column=_COLUMN, row_id=event.id)
    return dict(json.loads(text))
