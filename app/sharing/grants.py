"""Consent grants: a victim gives one caseworker access, with a scope, until a set time.

A victim finds a caseworker only through a link code that caseworker generated and handed
over in person: there is no directory of caseworkers to search. Using the code creates the
grant; a newer grant to the same caseworker supersedes (revokes) the older one, so a change
of scope or expiry is simply a new grant. Revocation takes effect on the caseworker's next
request (see app.sharing.access). Every change is written to the victim's audit trail.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import record as audit
from app.context import AppContext
from app.crypto.fields import encrypt_field
from app.db import rowcount, utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.models import ConsentGrant, LinkCode, Organisation, OrganisationMember
from app.pagination import newest_first, split_page
from app.security.actor import Actor
from app.security.client import ClientFacts
from app.security.keys import actor_key
from app.security.roles import Staff
from app.sharing import schemas
from app.sharing.codes import link_code_hash, new_link_code

LINK_CODE_TTL = timedelta(hours=24)
MAX_GRANT_LENGTH = timedelta(days=366)
LINK_CODE_INVALID = "This link code is not valid: it is unknown, used or expired."
GRANT_NOT_FOUND = "No such grant."
ID_IN_USE = "This id is already in use; a repeated create must send the same content."


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, extra={"errors": [{"loc": ["body", field], "msg": message}]})


def create_link_code(
    ctx: AppContext, session: Session, caseworker: Staff, body: schemas.LinkCodeIn
) -> schemas.LinkCodeOut:
    code = new_link_code()
    now = utcnow()
    row = LinkCode(
        id=uuid.uuid4(),
        caseworker_id=caseworker.account_id,
        code_hash=link_code_hash(ctx.keyring.hmac_key, code),
        created_at=now,
        expires_at=now + LINK_CODE_TTL,
    )
    if body.label is not None:
        key = actor_key(ctx.keyring, caseworker.actor)
        row.label_enc = encrypt_field(
            key, body.label, table="caseworker_link_codes", column="label", row_id=row.id
        )
    session.add(row)
    session.flush()
    return schemas.LinkCodeOut(id=row.id, code=code, label=body.label, expires_at=row.expires_at)


def _check_expiry(expires_at: datetime) -> datetime:
    now = utcnow()
    if expires_at <= now:
        raise _invalid("expires_at", "must be in the future")
    if expires_at > now + MAX_GRANT_LENGTH:
        raise _invalid("expires_at", "may be at most a year away; renew it later")
    return expires_at


def _claim_link_code(session: Session, code_hash: bytes) -> LinkCode:
    now = utcnow()
    claimed = session.execute(
        update(LinkCode)
        .where(
            LinkCode.code_hash == code_hash, LinkCode.used_at.is_(None), LinkCode.expires_at > now
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(claimed) != 1:
        raise _invalid("link_code", LINK_CODE_INVALID)
    return session.scalars(select(LinkCode).where(LinkCode.code_hash == code_hash)).one()


GrantRow = tuple[ConsentGrant, OrganisationMember | None, Organisation | None]


def _with_caseworker() -> Select[ConsentGrant, OrganisationMember, Organisation]:
    return (
        select(ConsentGrant, OrganisationMember, Organisation)
        .outerjoin(OrganisationMember, OrganisationMember.account_id == ConsentGrant.caseworker_id)
        .outerjoin(Organisation, Organisation.id == OrganisationMember.organisation_id)
    )


def _status(grant: ConsentGrant) -> schemas.GrantStatus:
    if grant.revoked_at is not None:
        return "revoked"
    return "expired" if grant.expires_at <= utcnow() else "active"


def _grant_out(row: GrantRow) -> schemas.GrantOut:
    grant, member, org = row
    caseworker = None
    if member is not None and org is not None:
        caseworker = schemas.CaseworkerRef(
            display_name=member.display_name,
            organisation=schemas.OrganisationRef(id=org.id, name=org.name, kind=org.kind),
        )
    return schemas.GrantOut(
        id=grant.id,
        scope=grant.scope,
        status=_status(grant),
        caseworker=caseworker,
        created_at=grant.created_at,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
    )


def _victim_grant(session: Session, victim: Actor, grant_id: uuid.UUID) -> GrantRow:
    row = session.execute(
        _with_caseworker().where(
            ConsentGrant.id == grant_id, ConsentGrant.account_id == victim.account_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound(GRANT_NOT_FOUND)
    grant, member, org = row
    return grant, member, org


def _caseworker_name(session: Session, caseworker_id: uuid.UUID) -> str:
    row = session.execute(
        select(OrganisationMember.display_name, Organisation.name)
        .join(Organisation, Organisation.id == OrganisationMember.organisation_id)
        .where(OrganisationMember.account_id == caseworker_id)
    ).one_or_none()
    if row is None:  # the caseworker has left their organisation since making the code
        raise _invalid("link_code", LINK_CODE_INVALID)
    return f"{row[0]}, {row[1]}"


def _supersede(
    ctx: AppContext, session: Session, victim: Actor, caseworker_id: uuid.UUID, facts: ClientFacts
) -> None:
    now = utcnow()
    live = session.scalars(
        select(ConsentGrant.id).where(
            ConsentGrant.account_id == victim.account_id,
            ConsentGrant.caseworker_id == caseworker_id,
            ConsentGrant.revoked_at.is_(None),
            ConsentGrant.expires_at > now,
        )
    ).all()
    for grant_id in live:
        _revoke(ctx, session, victim, grant_id, facts, reason="superseded")


def _replayed(
    session: Session, victim: Actor, body: schemas.GrantIn, code_hash: bytes
) -> schemas.GrantOut | None:
    """The grant a repeat of this create made before (same id and content), if any.

    409 for one of the victim's own ids in use with other content. Ids are unique per account,
    so another account's grant with this id is simply not found here.
    """
    if body.id is None:
        return None
    existing = session.get(ConsentGrant, (victim.account_id, body.id), populate_existing=True)
    if existing is None:
        return None
    same = (
        existing.scope == body.scope
        and existing.expires_at == body.expires_at
        and existing.link_code_id is not None
        and session.scalar(select(LinkCode.code_hash).where(LinkCode.id == existing.link_code_id))
        == code_hash
    )
    if not same:
        raise Conflict(ID_IN_USE)
    return _grant_out(_victim_grant(session, victim, existing.id))


def _client_id(session: Session, grant_id: uuid.UUID) -> uuid.UUID:
    """The caseworker's name for a new grant: its id, unless a grant (of any account) already
    has that client id, then a fresh one. Only the caseworker sees it, so the victim's answer
    is the same either way."""
    taken = session.scalar(select(ConsentGrant.id).where(ConsentGrant.client_id == grant_id))
    return grant_id if taken is None else uuid.uuid4()


def create_grant(
    ctx: AppContext, session: Session, victim: Actor, body: schemas.GrantIn, facts: ClientFacts
) -> tuple[schemas.GrantOut, bool]:
    """The new grant and True, or for a repeated create the original and False."""
    expires_at = _check_expiry(body.expires_at)
    code_hash = link_code_hash(ctx.keyring.hmac_key, body.link_code)
    replay = _replayed(session, victim, body, code_hash)
    if replay is not None:
        return replay, False
    try:
        link = _claim_link_code(session, code_hash)
    except Unprocessable:
        # A concurrent repeat of this create may have used the code first (PostgreSQL: the
        # claim waited for it to commit); this statement sees its grant.
        replay = _replayed(session, victim, body, code_hash)
        if replay is not None:
            return replay, False
        raise
    name = _caseworker_name(session, link.caseworker_id)
    _supersede(ctx, session, victim, link.caseworker_id, facts)
    grant_id = body.id or uuid.uuid4()
    grant = ConsentGrant(
        id=grant_id,
        account_id=victim.account_id,
        client_id=_client_id(session, grant_id),
        caseworker_id=link.caseworker_id,
        link_code_id=link.id,
        scope=body.scope,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    try:
        with session.begin_nested():
            session.add(grant)
            session.flush()
    except IntegrityError as exc:  # the same id or client id, taken at this very moment
        raise Conflict(ID_IN_USE) from exc
    audit.record_audit(
        session,
        actor_key(ctx.keyring, victim),
        audit.AuditActor.victim(victim.account_id),
        audit.GRANT_CREATED,
        object_type="grant",
        object_id=grant.id,
        facts=facts,
        details={"scope": body.scope, "expires_at": expires_at.isoformat(), "caseworker": name},
    )
    return _grant_out(_victim_grant(session, victim, grant.id)), True


def list_grants(
    session: Session, victim: Actor, limit: int, cursor: str | None
) -> schemas.GrantPage:
    mine = _with_caseworker().where(ConsentGrant.account_id == victim.account_id)
    query = newest_first(mine, ConsentGrant.created_at, ConsentGrant.id, limit, cursor)
    page, next_cursor = split_page(
        session.execute(query).all(), limit, lambda row: (row[0].created_at, row[0].id)
    )
    items = [_grant_out((grant, member, org)) for grant, member, org in page]
    return schemas.GrantPage(items=items, next_cursor=next_cursor)


def get_grant(session: Session, victim: Actor, grant_id: uuid.UUID) -> schemas.GrantOut:
    return _grant_out(_victim_grant(session, victim, grant_id))


def _revoke(
    ctx: AppContext,
    session: Session,
    victim: Actor,
    grant_id: uuid.UUID,
    facts: ClientFacts,
    *,
    reason: str,
) -> None:
    revoked = session.execute(
        update(ConsentGrant)
        .where(
            ConsentGrant.id == grant_id,
            ConsentGrant.account_id == victim.account_id,
            ConsentGrant.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if rowcount(revoked) == 1:  # revoking twice is harmless and recorded once
        audit.record_audit(
            session,
            actor_key(ctx.keyring, victim),
            audit.AuditActor.victim(victim.account_id),
            audit.GRANT_REVOKED,
            object_type="grant",
            object_id=grant_id,
            facts=facts,
            details={"reason": reason},
        )


def revoke_grant(
    ctx: AppContext, session: Session, victim: Actor, grant_id: uuid.UUID, facts: ClientFacts
) -> None:
    _victim_grant(session, victim, grant_id)
    _revoke(ctx, session, victim, grant_id, facts, reason="revoked")
