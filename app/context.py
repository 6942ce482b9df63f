"""What a running app holds for its lifetime: settings, engine, key ring, hasher, blob store,
signing keys, the transfer threads, the SQLite writers' turn and the export workers.

Built once at start-up (app.main.build_context, called by create_app and the CLI) and kept
as `app.state.ctx`, the one store of lifetime state; routes get it through `CtxDep`. Nothing
in it is made on first use, so nothing needs a lock to be made once: development signing keys
are generated (or loaded) here, before any worker process serves a request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Protocol

import anyio
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.blobs import BlobStore
from app.crypto.keyring import KeyRing
from app.crypto.passwords import PasswordHasher
from app.crypto.signing import SigningKeys
from app.settings import Settings


class ExportWorkers(Protocol):
    """The process's export workers (app.exports.jobs.runner.ExportRunner)."""

    def start(self, export_id: uuid.UUID, account_id: uuid.UUID) -> None: ...

    def resume(self, account_id: uuid.UUID, export_ids: Iterable[uuid.UUID]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    engine: Engine
    sessionmaker: sessionmaker[Session]
    keyring: KeyRing
    hasher: PasswordHasher
    blobs: BlobStore
    signing_keys: SigningKeys
    # The worker threads that encrypt and store file bodies (app.evidence.transfer), apart
    # from the pool the rest of the service uses, and each account's bodies in flight.
    transfer_limiter: anyio.CapacityLimiter
    transfers_in_flight: dict[uuid.UUID, int] = field(default_factory=dict, compare=False)
    # On SQLite, writing requests take turns on the event loop (app.db); None on PostgreSQL.
    writer_turn: anyio.Lock | None = None
    exports: ExportWorkers = field(init=False, compare=False, repr=False)

    def start_exports(self, workers: ExportWorkers) -> None:
        """Give the context its export workers, once, as it is built: they run with it."""
        if "exports" in self.__dict__:
            raise RuntimeError("the export workers are already started")
        object.__setattr__(self, "exports", workers)


def ctx_of(request: Request) -> AppContext:
    """The app's context, for code that has the request (middleware, dependencies)."""
    ctx: AppContext = request.app.state.ctx
    return ctx


async def get_ctx(request: Request) -> AppContext:
    """Async: it does no I/O, so FastAPI resolves it on the event loop (no thread-pool hop)."""
    return ctx_of(request)


CtxDep = Annotated[AppContext, Depends(get_ctx)]
