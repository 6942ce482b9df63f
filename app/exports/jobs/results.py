"""Making an export's result and storing it encrypted, as it is made.

The diary is read in one short read transaction (its facts, exhibits and chain document);
then the result is rendered and streamed through the encrypting writer
(app.blobs.encrypted.write_stream) into the blob store, so no plaintext reaches a disk or a
temporary file, and a bundle is never whole in memory: its evidence files pass through one
chunk at a time (app.exports.streaming), each checked against the SHA-256 recorded on receipt.

- json: the chronology exactly as GET /v1/chronology returns it (with the risk screening);
- pdf: the signed chronology (app.exports.pdf);
- bundle: the signed zip (app.exports.bundle.write), its chain document with every revision's salt
  and content when the export covers the whole diary, and the events alone otherwise (as a
  partial share's bundle: revisions outside the filters would disclose other entries).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import IO

from sqlalchemy.orm import Session

from app.blobs import encrypted
from app.context import AppContext
from app.crypto.fields import DataKey
from app.crypto.signing import SigningKeys
from app.crypto.stream import new_file_key
from app.errors import NotFound
from app.evidence.exhibits import open_exhibit
from app.exports.bundle.write import write_bundle
from app.exports.content import ExportContent, load_content
from app.exports.jobs.schemas import ExportOptions
from app.exports.jobs.service import ExportRequest, result_aad, wrap_result_key
from app.exports.pdf import export_pdf
from app.exports.streaming import written_chunks
from app.models import ExportJob
from app.security.keys import load_data_key
from app.sharing.chain_export import chain_document
from app.summaries.service import summarise

DEFAULT_IDENTIFICATION = "diary export"


@dataclass(frozen=True)
class Made:
    blob: encrypted.FinishedBlob
    file_key_enc: bytes  # the result's key, wrapped by the account's data key


def _pdf(content: ExportContent, identification: str, keys: SigningKeys) -> Iterator[bytes]:
    yield export_pdf(
        content.marked_summary,
        content.exhibits,
        identification=identification,
        chain_head=content.chain_head,
        keys=keys,
        screening=content.screening,
    )


def _bundle(
    ctx: AppContext,
    key: DataKey,
    content: ExportContent,
    chain: dict[str, object],
    identification: str,
    keys: SigningKeys,
) -> Iterator[bytes]:
    def write(stream: IO[bytes]) -> None:
        write_bundle(
            stream,
            summary=content.marked_summary,
            exhibits=content.exhibits,
            open_evidence=partial(open_exhibit, ctx, key),
            chain=chain,
            identification=identification,
            keys=keys,
            screening=content.screening,
        )

    return written_chunks(write, name="export-bundle")


def plan(
    ctx: AppContext, session: Session, key: DataKey, options: ExportOptions, keys: SigningKeys
) -> Iterable[bytes]:
    """Read what the export needs now; the returned chunks are made as they are consumed."""
    if options.format == "json":
        return [summarise(session, key, options.filters).model_dump_json().encode()]
    content = load_content(session, key, options.filters, include_evidence=options.include_evidence)
    identification = options.identification or DEFAULT_IDENTIFICATION
    if options.format == "pdf":
        return _pdf(content, identification, keys)
    chain = chain_document(session, key, with_revisions=options.is_whole_diary)
    return _bundle(ctx, key, content, chain, identification, keys)


def make(
    ctx: AppContext,
    keys: SigningKeys,
    account_id: uuid.UUID,
    export_id: uuid.UUID,
    blob_key: str,
) -> Made:
    """Make the export's result and store it under `blob_key`, encrypted under a new key."""
    with ctx.sessionmaker() as session:
        key = load_data_key(session, ctx.keyring, account_id)
        row = session.get(ExportJob, (account_id, export_id))
        if row is None:
            raise NotFound("The export was deleted.")
        chunks = plan(ctx, session, key, ExportRequest.open(key, row).options, keys)
    file_key = new_file_key()
    aad = result_aad(account_id, export_id)
    blob = encrypted.write_stream(ctx.blobs, blob_key, file_key, aad, chunks)
    return Made(blob, wrap_result_key(key, export_id, file_key))
