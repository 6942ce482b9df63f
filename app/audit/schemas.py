"""What the account holder sees of their audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

ActionName = Annotated[str, Field(pattern=r"^[a-z_]{1,30}\.[a-z_]{1,30}$")]


class AuditActorOut(BaseModel):
    kind: str = Field(description="victim, caseworker, share_link, admin, system or anonymous.")
    id: str | None = Field(
        description="Opaque: your account id, the grant id of a caseworker, a share link id."
    )
    name: str | None = Field(description="Who they said they were when it happened.")


class AuditObjectOut(BaseModel):
    type: str
    id: uuid.UUID | None


class AuditEventOut(BaseModel):
    id: uuid.UUID
    source: Literal["audit", "security"] = Field(
        description="`security`: the account's security log (logins, devices, 2FA, password)."
    )
    action: str
    created_at: datetime
    actor: AuditActorOut
    object: AuditObjectOut | None
    address: str | None
    user_agent: str | None
    details: dict[str, str]


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None
