"""Everything an account holds, decrypted, as one zip: the victim's copy of their own data.

Each part is read through the same service function its own API route uses, so the copy says
exactly what the API says (JSON, one file per kind), every page of it:

    account.json, sessions.json, subjects.json and incidents.json (each with every revision,
    withdrawn ones included), incident-drafts.json, risk-assessments.json, evidence.json and
    evidence/<id>-<name> (each file as received), grants.json, shares.json,
    caseworker-notes.json, exports.json, audit.json (every access and security event),
    chain.json (the hash chain with every revision's salt and content), README.txt, and
    SHA256SUMS over all of them.

The JSON documents are read in one read transaction before the response starts (they are
text, small beside the files); the evidence files are decrypted and written one chunk at a time
while the zip is sent, so none is ever whole in memory.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import IO, Any, Protocol, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.audit.service import list_audit
from app.context import AppContext
from app.crypto.fields import DataKey
from app.db import utcnow
from app.diary.incidents import service as incidents
from app.diary.subjects import service as subjects
from app.evidence import download
from app.evidence import service as evidence
from app.evidence.exhibits import safe_file_name
from app.exports.jobs import service as jobs
from app.exports.streaming import written_chunks
from app.models import Incident, Subject
from app.ownership import owned
from app.risk import service as risk
from app.security.actor import Actor
from app.sessions import service as sessions
from app.sharing import drafts, grants
from app.sharing.chain_export import chain_document
from app.sharing.clients import service as clients
from app.sharing.shares import service as shares

PAGE = 200
Item = TypeVar("Item", bound=BaseModel, covariant=True)
Model = TypeVar("Model", bound=BaseModel)


class Page(Protocol[Item]):
    @property
    def items(self) -> Sequence[Item]: ...

    @property
    def next_cursor(self) -> str | None: ...


def every(fetch: Callable[[str | None], Page[Model]]) -> list[Model]:
    """Every item of a paginated list, following `next_cursor` to the end."""
    items: list[Model] = []
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items


def _json(value: Any) -> bytes:
    plain = to_jsonable_python(value, by_alias=True)
    return (json.dumps(plain, indent=2, ensure_ascii=False) + "\n").encode()


def _history(
    row: Subject | Incident, revisions: Callable[[str | None], Page[BaseModel]]
) -> dict[str, Any]:
    return {
        "id": row.id,
        "recorded_at": row.recorded_at,
        "withdrawn_at": row.withdrawn_at,
        "revisions": every(revisions),
    }


def _subjects(session: Session, key: DataKey) -> list[dict[str, Any]]:
    query = owned(Subject, key.account_id).order_by(Subject.recorded_at, Subject.id)
    return [
        _history(row, partial(subjects.list_revisions, session, key, row.id, PAGE))
        for row in session.scalars(query).all()
    ]


def _incidents(session: Session, key: DataKey) -> list[dict[str, Any]]:
    query = owned(Incident, key.account_id).order_by(Incident.recorded_at, Incident.id)
    return [
        _history(row, partial(incidents.list_revisions, session, key, row.id, PAGE))
        for row in session.scalars(query).all()
    ]


@dataclass(frozen=True)
class EvidenceFile:
    path: str
    evidence_id: uuid.UUID


def documents(
    ctx: AppContext, session: Session, actor: Actor, key: DataKey
) -> tuple[list[tuple[str, bytes]], list[EvidenceFile]]:
    """The account's JSON documents, and the evidence files to add after them."""
    _, subject_facts = risk.diary_facts(session, key)
    records = every(lambda c: evidence.list_evidence(session, key, None, PAGE, c))
    files = [
        EvidenceFile(f"evidence/{record.id}-{safe_file_name(record.file_name)}", record.id)
        for record in records
    ]
    docs = [
        ("account.json", accounts.me(ctx, session, actor)),
        ("sessions.json", sessions.list_sessions(ctx, session, actor)),
        ("subjects.json", _subjects(session, key)),
        ("incidents.json", _incidents(session, key)),
        ("incident-drafts.json", every(lambda c: drafts.list_drafts(session, key, PAGE, c))),
        (
            "risk-assessments.json",
            every(lambda c: risk.history(session, key, subject_facts, limit=PAGE, cursor=c)),
        ),
        ("evidence.json", records),
        ("grants.json", every(lambda c: grants.list_grants(session, actor, PAGE, c))),
        ("shares.json", every(lambda c: shares.list_shares(ctx, session, actor, PAGE, c))),
        ("caseworker-notes.json", every(lambda c: clients.list_my_notes(session, key, PAGE, c))),
        ("exports.json", every(lambda c: jobs.list_exports(session, key, PAGE, c))),
        ("audit.json", every(lambda c: list_audit(session, key, PAGE, c, None))),
        ("chain.json", chain_document(session, key, with_revisions=True)),
    ]
    return [(path, _json(value)) for path, value in docs], files


README = (
    "Chronicle: a copy of everything your account holds\n\n"
    "account.json          your account\n"
    "sessions.json         the devices signed in\n"
    "subjects.json         the people responsible, with every revision\n"
    "incidents.json        your diary, with every revision (withdrawn entries included)\n"
    "incident-drafts.json  entries a caseworker drafted for you\n"
    "risk-assessments.json your S-DASH screenings\n"
    "evidence.json         your evidence records; the files are in evidence/\n"
    "grants.json           the caseworkers you gave access to\n"
    "shares.json           the links you shared with officers\n"
    "caseworker-notes.json notes caseworkers wrote in your record\n"
    "exports.json          the exports you made\n"
    "audit.json            every access to your data, and your security log\n"
    "chain.json            your diary's hash chain, with what is needed to recompute it\n"
    "SHA256SUMS            check the files with `sha256sum -c SHA256SUMS`\n"
)


class _Zip:
    def __init__(self, archive: zipfile.ZipFile, stamp: datetime) -> None:
        self.archive = archive
        self.stamp = stamp.timetuple()[:6]
        self.sums: list[str] = []

    def _info(self, path: str, compress: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=self.stamp)
        info.compress_type = compress
        info.external_attr = 0o644 << 16
        return info

    def add(self, path: str, data: bytes) -> None:
        self.archive.writestr(self._info(path, zipfile.ZIP_DEFLATED), data)
        self.sums.append(f"{hashlib.sha256(data).hexdigest()}  {path}\n")

    def stream(self, path: str, chunks: Iterator[bytes]) -> None:
        digest = hashlib.sha256()
        with self.archive.open(self._info(path, zipfile.ZIP_STORED), "w", force_zip64=True) as fh:
            for chunk in chunks:
                digest.update(chunk)
                fh.write(chunk)
        self.sums.append(f"{digest.hexdigest()}  {path}\n")

    def close(self) -> None:
        """Add SHA256SUMS, over every file added before it."""
        sums = "".join(self.sums).encode()
        self.archive.writestr(self._info("SHA256SUMS", zipfile.ZIP_DEFLATED), sums)


def _evidence_chunks(ctx: AppContext, key: DataKey, item: EvidenceFile) -> Iterator[bytes]:
    opened = download.open_file(ctx, key, item.evidence_id)
    return download.read(ctx, opened, (0, opened.size))


def account_zip(
    ctx: AppContext,
    key: DataKey,
    docs: list[tuple[str, bytes]],
    files: list[EvidenceFile],
) -> Iterator[bytes]:
    """The zip's bytes, written by a thread of its own as they are read."""
    made_at = utcnow()

    def write(stream: IO[bytes]) -> None:
        with zipfile.ZipFile(stream, "w") as archive:
            out = _Zip(archive, made_at)
            out.add("README.txt", README.encode())
            for path, data in docs:
                out.add(path, data)
            for item in files:
                out.stream(item.path, _evidence_chunks(ctx, key, item))
            out.close()

    return written_chunks(write, name="account-export")
