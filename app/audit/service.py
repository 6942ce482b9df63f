"""Reading the audit trail: one newest-first list over two append-only sources.

Accesses by others and sharing changes are written here (`audit_events`, by `record_audit`).
Logins, failed logins, new devices, 2FA and password changes are already written once, by the
account and session services, to `security_events`; they are read from there rather than
written twice. Both are keyed by (created_at, id), so one cursor pages through their merge:
each source is read up to `limit + 1` rows past the cursor and the two runs are merged.
Security events appear with the action `security.<kind>` (e.g. `security.login`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from app.accounts.events import event_context
from app.audit.record import audit_context
from app.audit.schemas import AuditActorOut, AuditEventOut, AuditObjectOut, AuditPage
from app.crypto.fields import DataKey
from app.models import AuditEvent, SecurityEvent
from app.pagination import cursor_datetime, cursor_uuid, decode_cursor, encode_cursor

SECURITY_PREFIX = "security."
# Security events that someone without the account's credentials can cause.
_ANONYMOUS_KINDS = frozenset({"login_failed", "totp_failed"})

Position = tuple[datetime, uuid.UUID]


def _audit_query(account_id: uuid.UUID, actions: list[str] | None) -> Select[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.account_id == account_id)
    if actions is not None:
        query = query.where(AuditEvent.action.in_(actions))
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def _security_query(account_id: uuid.UUID, kinds: list[str] | None) -> Select[SecurityEvent]:
    query = select(SecurityEvent).where(SecurityEvent.account_id == account_id)
    if kinds is not None:
        query = query.where(SecurityEvent.kind.in_(kinds))
    return query.order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())


def _from_audit(key: DataKey, event: AuditEvent) -> AuditEventOut:
    context = audit_context(key, event)
    return AuditEventOut(
        id=event.id,
        source="audit",
        action=event.action,
        created_at=event.created_at,
        actor=AuditActorOut(
            kind=event.actor_kind, id=event.actor_id, name=context.get("actor_name")
        ),
        object=(
            AuditObjectOut(type=event.object_type, id=event.object_id)
            if event.object_type
            else None
        ),
        address=context.get("address"),
        user_agent=context.get("user_agent"),
        details=dict(context.get("details", {})),
    )


def _from_security(key: DataKey, event: SecurityEvent) -> AuditEventOut:
    context = event_context(key, event)
    anonymous = event.kind in _ANONYMOUS_KINDS
    return AuditEventOut(
        id=event.id,
        source="security",
        action=SECURITY_PREFIX + event.kind,
        created_at=event.created_at,
        actor=AuditActorOut(
            kind="anonymous" if anonymous else "victim",
            id=None if anonymous else str(event.account_id),
            name=None,
        ),
        object=AuditObjectOut(type="session", id=event.session_id) if event.session_id else None,
        address=context.get("address"),
        user_agent=context.get("device"),
        details={},
    )


def list_audit(
    session: Session, key: DataKey, limit: int, cursor: str | None, actions: list[str] | None
) -> AuditPage:
    """The account's audit trail, newest first; `actions` keeps only those actions."""
    after: Position | None = None
    if cursor:
        created, event_id = decode_cursor(cursor, 2)
        after = (cursor_datetime(created), cursor_uuid(event_id))
    audit_actions = security_kinds = None
    if actions is not None:
        audit_actions = [a for a in actions if not a.startswith(SECURITY_PREFIX)]
        security_kinds = [
            a.removeprefix(SECURITY_PREFIX) for a in actions if a.startswith(SECURITY_PREFIX)
        ]
    audit_q = _audit_query(key.account_id, audit_actions).limit(limit + 1)
    security_q = _security_query(key.account_id, security_kinds).limit(limit + 1)
    if after is not None:
        audit_q = audit_q.where(tuple_(AuditEvent.created_at, AuditEvent.id) < tuple_(*after))
        security_q = security_q.where(
            tuple_(SecurityEvent.created_at, SecurityEvent.id) < tuple_(*after)
        )
    audits: Sequence[AuditEvent] = session.scalars(audit_q).all() if audit_actions != [] else []
    securities: Sequence[SecurityEvent] = (
        session.scalars(security_q).all() if security_kinds != [] else []
    )
    merged: list[tuple[Position, AuditEvent | SecurityEvent]] = sorted(
        [((e.created_at, e.id), e) for e in audits]
        + [((e.created_at, e.id), e) for e in securities],
        key=lambda pair: pair[0],
        reverse=True,
    )
    page = merged[:limit]
    items = [
        _from_audit(key, e) if isinstance(e, AuditEvent) else _from_security(key, e)
        for _, e in page
    ]
    next_cursor = None
    if len(merged) > limit:
        created_at, event_id = page[-1][0]
        next_cursor = encode_cursor(created_at.isoformat(), str(event_id))
    return AuditPage(items=items, next_cursor=next_cursor)
