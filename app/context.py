"""What a running app holds for its lifetime: settings, engine, key ring, hasher, blob store.

Built once in create_app and kept on app.state; routes get it through `CtxDep`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.blobs import BlobStore
from app.crypto.keyring import KeyRing
from app.security.passwords import PasswordHasher
from app.settings import Settings


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    engine: Engine
    sessionmaker: sessionmaker[Session]
    keyring: KeyRing
    hasher: PasswordHasher
    blobs: BlobStore


async def get_ctx(request: Request) -> AppContext:
    """Async: it does no I/O, so FastAPI resolves it on the event loop (no thread-pool hop)."""
    ctx: AppContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[AppContext, Depends(get_ctx)]
