"""Officer shares: a link a victim gives a named officer, with a scope, an expiry and maybe a
passcode; revocable at once; every use of it listed back to the victim.

The link's secret is a 256-bit token from `secrets`, shown once in the create response and
stored only as an HMAC-SHA-256 under the server key (as access tokens are): the database alone
can neither open a link nor tell which link a token is. The optional passcode is a second,
separately delivered secret; it is low-entropy, so it is stored as an argon2id hash (computed
by the route, off the event loop, before the request's transaction starts), and guessing is
throttled per link and per address (app.viewer.links).

The recipient (name, force, crime reference) is the victim's content: sealed under the
victim's data key and bound to the share's row. Accesses are not a table of their own: each
open and download is an `audit_events` row (actor `share_link`, id = the share's id, sealed
address and user agent), so the victim's audit trail and `GET /v1/shares/{id}/accesses` are
two views of the same record.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import record as audit
from app.context import AppContext
from app.crypto.fields import DataKey, decrypt_field, encrypt_field
from app.db import from_tags, rowcount, to_tags, utcnow
from app.errors import NotFound, Unprocessable
from app.models import AuditEvent, ShareLink, Subject
from app.pagination import newest_first, split_page
from app.security.actor import Actor
from app.security.client import ClientFacts
from app.security.keys import actor_key
from app.security.tokens import keyed_hash, new_token
from app.sharing.shares.schemas import (
    Recipient,
    ShareAccessOut,
    ShareAccessPage,
    ShareCreatedOut,
    ShareIn,
    ShareOut,
    SharePage,
    ShareScope,
    ShareStatus,
)

SHARE_PREFIX = "chs_"
MAX_TOKEN_LENGTH = 128
MAX_SHARE_LENGTH = timedelta(days=366)
SHARE_NOT_FOUND = "No such share."
_TABLE = "share_links"
_ACCESS_ACTIONS = (audit.SHARE_ACCESSED, audit.SHARE_PASSCODE_FAILED)


def new_share_token() -> str:
    return new_token(SHARE_PREFIX)


def share_token_hash(hmac_key: bytes, token: str) -> bytes:
    return keyed_hash(hmac_key, "share-link", token)


def _invalid(loc: list[str | int], message: str) -> Unprocessable:
    return Unprocessable(message, extra={"errors": [{"loc": ["body", *loc], "msg": message}]})


def seal_recipient(key: DataKey, share_id: uuid.UUID, recipient: Recipient) -> bytes:
    text = json.dumps(recipient.model_dump(), ensure_ascii=False)
    return encrypt_field(key, text, table=_TABLE, column="recipient", row_id=share_id)


def open_recipient(key: DataKey, share: ShareLink) -> Recipient:
    text = decrypt_field(
        key, share.recipient_enc, table=_TABLE, column="recipient", row_id=share.id
    )
    return Recipient.model_validate_json(text)


def recipient_label(recipient: Recipient) -> str:
    return f"{recipient.name}, {recipient.force}"


def scope_of(share: ShareLink) -> ShareScope:
    return ShareScope.model_validate(
        {
            "from": share.scope_from,
            "to": share.scope_to,
            "subject_ids": [uuid.UUID(s) for s in from_tags(share.subject_ids)],
            "include_evidence": share.include_evidence,
        }
    )


def status_of(share: ShareLink, now: datetime | None = None) -> ShareStatus:
    if share.revoked_at is not None:
        return "revoked"
    return "expired" if share.expires_at <= (now or utcnow()) else "active"


def share_out(key: DataKey, share: ShareLink) -> ShareOut:
    return ShareOut(
        id=share.id,
        recipient=open_recipient(key, share),
        scope=scope_of(share),
        has_passcode=share.passcode_hash is not None,
        status=status_of(share),
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
    )


def _check_expiry(expires_at: datetime) -> datetime:
    now = utcnow()
    if expires_at <= now:
        raise _invalid(["expires_at"], "must be in the future")
    if expires_at > now + MAX_SHARE_LENGTH:
        raise _invalid(["expires_at"], "may be at most a year away; share again later")
    return expires_at


def _check_subjects(session: Session, account_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    """422 unless every id is a live subject of this account (another's looks unknown)."""
    if not ids:
        return
    known = set(
        session.scalars(
            select(Subject.id).where(
                Subject.account_id == account_id,
                Subject.id.in_(ids),
                Subject.withdrawn_at.is_(None),
            )
        )
    )
    errors = [
        {"loc": ["body", "scope", "subject_ids", index], "msg": "is not one of your subjects"}
        for index, subject_id in enumerate(ids)
        if subject_id not in known
    ]
    if errors:
        raise Unprocessable("Some subject_ids are not your subjects.", extra={"errors": errors})


def create_share(
    ctx: AppContext,
    session: Session,
    victim: Actor,
    body: ShareIn,
    passcode_hash: str | None,
    base_url: str,
    facts: ClientFacts,
) -> ShareCreatedOut:
    """Create the link; the token and URL are in this response only."""
    expires_at = _check_expiry(body.expires_at)
    scope = body.scope
    _check_subjects(session, victim.account_id, scope.subject_ids)
    key = actor_key(ctx.keyring, victim)
    token = new_share_token()
    recipient = Recipient(
        name=body.recipient_name, force=body.force, crime_reference=body.crime_reference
    )
    share = ShareLink(
        id=uuid.uuid4(),
        account_id=victim.account_id,
        token_hash=share_token_hash(ctx.keyring.hmac_key, token),
        scope_from=scope.occurred_from,
        scope_to=scope.occurred_to,
        subject_ids=to_tags(sorted(set(scope.subject_ids), key=str)),
        include_evidence=scope.include_evidence,
        passcode_hash=passcode_hash,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    share.recipient_enc = seal_recipient(key, share.id, recipient)
    session.add(share)
    session.flush()
    audit.record_audit(
        session,
        key,
        audit.AuditActor.victim(victim.account_id),
        audit.SHARE_CREATED,
        object_type="share",
        object_id=share.id,
        facts=facts,
        details={
            "recipient": recipient_label(recipient),
            "expires_at": expires_at.isoformat(),
            "passcode": "yes" if passcode_hash else "no",
            "evidence": "yes" if scope.include_evidence else "no",
        },
    )
    out = share_out(key, share)
    url = base_url.rstrip("/") + "/s/" + token
    return ShareCreatedOut(**dict(out), token=token, url=url)


def _victim_share(session: Session, victim: Actor, share_id: uuid.UUID) -> ShareLink:
    share = session.scalars(
        select(ShareLink)
        .where(ShareLink.id == share_id, ShareLink.account_id == victim.account_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if share is None:
        raise NotFound(SHARE_NOT_FOUND)
    return share


def list_shares(
    ctx: AppContext, session: Session, victim: Actor, limit: int, cursor: str | None
) -> SharePage:
    mine = select(ShareLink).where(ShareLink.account_id == victim.account_id)
    query = newest_first(mine, ShareLink.created_at, ShareLink.id, limit, cursor)
    page, next_cursor = split_page(
        session.scalars(query).all(), limit, lambda share: (share.created_at, share.id)
    )
    key = actor_key(ctx.keyring, victim)
    return SharePage(items=[share_out(key, share) for share in page], next_cursor=next_cursor)


def get_share(ctx: AppContext, session: Session, victim: Actor, share_id: uuid.UUID) -> ShareOut:
    return share_out(actor_key(ctx.keyring, victim), _victim_share(session, victim, share_id))


def revoke_share(
    ctx: AppContext, session: Session, victim: Actor, share_id: uuid.UUID, facts: ClientFacts
) -> None:
    """Revoke at once: the link's next request is refused. Revoking twice is harmless."""
    _victim_share(session, victim, share_id)
    revoked = session.execute(
        update(ShareLink)
        .where(
            ShareLink.id == share_id,
            ShareLink.account_id == victim.account_id,
            ShareLink.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rowcount(revoked) == 1:
        audit.record_audit(
            session,
            actor_key(ctx.keyring, victim),
            audit.AuditActor.victim(victim.account_id),
            audit.SHARE_REVOKED,
            object_type="share",
            object_id=share_id,
            facts=facts,
        )


def list_accesses(
    ctx: AppContext,
    session: Session,
    victim: Actor,
    share_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> ShareAccessPage:
    """Every open, download and failed passcode of the link, newest first."""
    _victim_share(session, victim, share_id)
    events = select(AuditEvent).where(
        AuditEvent.account_id == victim.account_id,
        AuditEvent.actor_kind == "share_link",
        AuditEvent.actor_id == str(share_id),
        AuditEvent.action.in_(_ACCESS_ACTIONS),
    )
    query = newest_first(events, AuditEvent.created_at, AuditEvent.id, limit, cursor)
    page, next_cursor = split_page(
        session.scalars(query).all(), limit, lambda event: (event.created_at, event.id)
    )
    key = actor_key(ctx.keyring, victim)
    items = []
    for event in page:
        context = audit.audit_context(key, event)
        items.append(
            ShareAccessOut(
                id=event.id,
                at=event.created_at,
                action=event.action,
                what=str(context.get("details", {}).get("what", "")),
                address=context.get("address"),
                user_agent=context.get("user_agent"),
            )
        )
    return ShareAccessPage(items=items, next_cursor=next_cursor)
