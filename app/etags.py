"""Strong ETags and If-Match: every versioned resource (incidents, subjects, evidence) uses them.

A resource's ETag names its current version; a change must send it back in If-Match, so two
devices editing the same thing cannot overwrite each other unseen (428 without it, 412 with
the current version when it is stale).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Collection
from typing import Annotated

from fastapi import Header
from pydantic import BaseModel

from app.errors import PreconditionFailed, PreconditionRequired

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=512,
        description="The ETag of the version being changed (required; 428 without it).",
    ),
]


def make_etag(revision: int, revision_id: uuid.UUID) -> str:
    """A strong validator: the revision number and part of the revision's random id."""
    return f'"{revision}-{revision_id.hex[:12]}"'


def linked_etag(etag: str, linked: Collection[uuid.UUID]) -> str:
    """`etag` for a view that also shows `linked`: links made from the other side and not stored
    on this one (app.evidence.links). Such a link changes what is read here without a new
    version here, so the validator changes with it; with none it is the version's own tag."""
    if not linked:
        return etag
    digest = hashlib.sha256("|".join(sorted(str(i) for i in linked)).encode()).hexdigest()[:8]
    return f'{etag[:-1]}+{digest}"'


def require_match(
    if_match: str | None, current: str, current_body: Callable[[], BaseModel]
) -> None:
    """428 without If-Match; 412 with the current version when none of its tags is current."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired("Send If-Match with the ETag of the version you changed.")
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or current in tags or current.strip('"') in tags:
        return
    raise PreconditionFailed(
        "Someone changed this since your version; merge with the current one and retry.",
        headers={"ETag": current},
        extra={"current": current_body().model_dump(mode="json"), "etag": current},
    )
