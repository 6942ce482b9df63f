"""The account security log: logins, failures, new devices, 2FA and password changes."""

from __future__ import annotations

import json
import uuid

from sqlalchemy.orm import Session

from app.crypto.fields import DataKey, decrypt_field, encrypt_field
from app.models import SecurityEvent
from app.security.client import ClientFacts


def record_event(
    session: Session,
    key: DataKey,
    kind: str,
    facts: ClientFacts | None,
    *,
    session_id: uuid.UUID | None = None,
) -> None:
    event = SecurityEvent(
        id=uuid.uuid4(), account_id=key.account_id, kind=kind, session_id=session_id
    )
    if facts is not None:
        context = json.dumps({"address": facts.address, "device": facts.user_agent})
        event.context_enc = encrypt_field(
            key, context, table="security_events", column="context", row_id=event.id
        )
    session.add(event)


def event_context(key: DataKey, event: SecurityEvent) -> dict[str, str]:
    if event.context_enc is None:
        return {}
    text = decrypt_field(
        key, event.context_enc, table="security_events", column="context", row_id=event.id
    )
    return dict(json.loads(text))
