"""Dependencies the diary routes share: the caller's data key and the If-Match header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from app.accounts.keys import actor_key
from app.context import CtxDep
from app.crypto.fields import DataKey
from app.security.actor import CurrentActor


async def diary_key(actor: CurrentActor, ctx: CtxDep) -> DataKey:
    """The caller's data key; its `account_id` is the scope of every diary query.

    `async` only so that FastAPI runs it on the event loop instead of a thread-pool hop: it
    does no I/O, just one AES-GCM unwrap of a 32-byte key.
    """
    return actor_key(ctx.keyring, actor)


KeyDep = Annotated[DataKey, Depends(diary_key)]

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=512,
        description="The ETag of the version being changed (required; 428 without it).",
    ),
]
