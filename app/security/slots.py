"""A cap on requests that hash passwords, enforced before they take a worker thread.

FastAPI's `max_concurrency` makes excess requests wait on the event loop without holding a
thread, so a login storm cannot starve the thread pool that every other route runs in. The
hasher's own semaphore then bounds the memory argon2 can take.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Depends, Request

PASSWORD_ROUTE_CONCURRENCY = 4


def _slot(request: Request) -> Iterator[None]:
    request.scope["hashes_password"] = True  # see app.db._writer_turn
    yield


# One shared Depends object: the limit is shared by every route that lists it.
password_slot: Any = Depends(_slot, scope="function", max_concurrency=PASSWORD_ROUTE_CONCURRENCY)
