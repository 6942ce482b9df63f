"""The caseworker's side: their clients, and notes they add to a client's record.

A note belongs to the client (the victim): it is sealed under the client's data key, bound to
its row, listed to the client apart from their own diary entries, and it stays when the grant
ends. Its sealed document carries a random salt, like a diary revision, so that it can be
committed to the client's hash chain (see `chain_note_created`).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record as audit
from app.context import AppContext
from app.crypto.fields import DataKey, decrypt_field, encrypt_field
from app.db import utcnow
from app.integrity.canonical import content_commitment
from app.integrity.chain import NOTE_CREATED, append_event
from app.models import CaseworkerNote, ConsentGrant, LinkCode
from app.pagination import newest_first, split_page
from app.security.client import ClientFacts
from app.security.keys import actor_key
from app.security.roles import Staff
from app.sharing import schemas
from app.sharing.access import ClientAccess

_NOTES = "caseworker_notes"
SALT_BYTES = 32


def _label(key: DataKey, link_code_id: uuid.UUID | None, blob: bytes | None) -> str | None:
    if blob is None or link_code_id is None:
        return None
    return decrypt_field(
        key, blob, table="caseworker_link_codes", column="label", row_id=link_code_id
    )


def _client_out(key: DataKey, grant: ConsentGrant, label_enc: bytes | None) -> schemas.ClientOut:
    return schemas.ClientOut(
        id=grant.client_id,
        scope=grant.scope,
        label=_label(key, grant.link_code_id, label_enc),
        granted_at=grant.created_at,
        expires_at=grant.expires_at,
    )


def list_clients(
    ctx: AppContext, session: Session, caseworker: Staff, limit: int, cursor: str | None
) -> schemas.ClientPage:
    """The caseworker's live grants, newest first. Nothing of the clients' data is read."""
    live = (
        select(ConsentGrant, LinkCode.label_enc)
        .outerjoin(LinkCode, LinkCode.id == ConsentGrant.link_code_id)
        .where(
            ConsentGrant.caseworker_id == caseworker.account_id,
            ConsentGrant.revoked_at.is_(None),
            ConsentGrant.expires_at > utcnow(),
        )
    )
    query = newest_first(live, ConsentGrant.created_at, ConsentGrant.client_id, limit, cursor)
    page, next_cursor = split_page(
        session.execute(query).all(), limit, lambda row: (row[0].created_at, row[0].client_id)
    )
    key = actor_key(ctx.keyring, caseworker.actor)
    items = [_client_out(key, grant, label_enc) for grant, label_enc in page]
    return schemas.ClientPage(items=items, next_cursor=next_cursor)


def get_client(
    ctx: AppContext, session: Session, access: ClientAccess, facts: ClientFacts
) -> schemas.ClientOut:
    grant = session.get_one(ConsentGrant, (access.account_id, access.grant_id))
    label_enc = None
    if grant.link_code_id is not None:
        label_enc = session.scalar(
            select(LinkCode.label_enc).where(LinkCode.id == grant.link_code_id)
        )
    access.audit(session, audit.CLIENT_VIEWED, object_type="grant", object_id=grant.id, facts=facts)
    return _client_out(actor_key(ctx.keyring, access.caseworker.actor), grant, label_enc)


def _seal_note(key: DataKey, note_id: uuid.UUID, salt: bytes, content: dict[str, str]) -> bytes:
    document = json.dumps({"salt": salt.hex(), "content": content}, ensure_ascii=False)
    return encrypt_field(key, document, table=_NOTES, column="content", row_id=note_id)


def _note_out(
    key: DataKey, note: CaseworkerNote, client_id: uuid.UUID | None = None
) -> schemas.NoteOut:
    """The note; `client_id` is how the caseworker reading it names its grant, if they are."""
    text = decrypt_field(key, note.content_enc, table=_NOTES, column="content", row_id=note.id)
    content = json.loads(text)["content"]
    return schemas.NoteOut(
        id=note.id,
        client_id=client_id or note.grant_id,
        author=content["author"],
        organisation=content["organisation"],
        text=content["text"],
        created_at=note.created_at,
    )


def chain_note_created(
    session: Session,
    access: ClientAccess,
    note: CaseworkerNote,
    salt: bytes,
    content: dict[str, str],
) -> None:
    """Append `note.created` to the client's hash chain, committing to the note's content.

    The salt is sealed inside the note, so an export can let an outsider recompute the
    commitment; a guesser without it cannot confirm a note's text from the chain.
    """
    append_event(
        session,
        access.account_id,
        NOTE_CREATED,
        note.id,
        1,
        None,
        content_commitment(salt, content),
        recorded_at=note.created_at,
    )


def add_note(
    session: Session, access: ClientAccess, text: str, extra: Mapping[str, str] | None = None
) -> CaseworkerNote:
    """Seal a note into the client's record and commit it to their chain.

    `extra` adds facts to the sealed (and committed) content, such as the incident a drafted
    entry note is about; the note's text says the same for people.
    """
    caseworker = access.caseworker
    note = CaseworkerNote(
        id=uuid.uuid4(),
        account_id=access.account_id,
        grant_id=access.grant_id,
        created_at=utcnow(),
    )
    content = {
        **(extra or {}),
        "author": caseworker.display_name or "",
        "organisation": caseworker.organisation_name or "",
        "text": text,
    }
    salt = os.urandom(SALT_BYTES)
    note.content_enc = _seal_note(access.key, note.id, salt, content)
    session.add(note)
    session.flush()
    chain_note_created(session, access, note, salt, content)
    return note


def create_note(
    session: Session, access: ClientAccess, body: schemas.NoteIn, facts: ClientFacts
) -> schemas.NoteOut:
    note = add_note(session, access, body.text)
    access.audit(session, audit.NOTE_CREATED, object_type="note", object_id=note.id, facts=facts)
    return _note_out(access.key, note, access.client_id)


def note_author(key: DataKey, note: CaseworkerNote) -> tuple[str, str]:
    """(author, organisation) as the note recorded them when it was written."""
    out = _note_out(key, note)
    return out.author, out.organisation


def _notes_page(
    session: Session,
    key: DataKey,
    limit: int,
    cursor: str | None,
    access: ClientAccess | None = None,
) -> schemas.NotePage:
    """The account's notes; with `access`, only those written under its grant, as its
    caseworker names it."""
    notes = select(CaseworkerNote).where(CaseworkerNote.account_id == key.account_id)
    client_id = None
    if access is not None:
        notes = notes.where(CaseworkerNote.grant_id == access.grant_id)
        client_id = access.client_id
    query = newest_first(notes, CaseworkerNote.created_at, CaseworkerNote.id, limit, cursor)
    page, next_cursor = split_page(
        session.scalars(query).all(), limit, lambda note: (note.created_at, note.id)
    )
    items = [_note_out(key, n, client_id) for n in page]
    return schemas.NotePage(items=items, next_cursor=next_cursor)


def list_client_notes(
    session: Session, access: ClientAccess, limit: int, cursor: str | None, facts: ClientFacts
) -> schemas.NotePage:
    """The notes written under this grant (by this caseworker), newest first."""
    access.audit(
        session, audit.NOTES_VIEWED, object_type="grant", object_id=access.grant_id, facts=facts
    )
    return _notes_page(session, access.key, limit, cursor, access)


def list_my_notes(
    session: Session, victim_key: DataKey, limit: int, cursor: str | None
) -> schemas.NotePage:
    """Every caseworker note in the victim's record, newest first."""
    return _notes_page(session, victim_key, limit, cursor)
