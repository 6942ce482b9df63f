"""Token and session bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.accounts.schemas import Password, TotpCode, Username
from app.schemas import Input


class TokenIn(Input):
    username: Username
    password: Password
    totp_code: TotpCode | None = None
    # One of the account's recovery codes (POST /v1/me/recovery-codes): stands in for the TOTP
    # code, and with the right password gets the owner through a lock-out.
    recovery_code: str | None = Field(None, min_length=1, max_length=64)
    # Returned by an earlier login on this device; failures from unknown devices then
    # cannot lock this device out.
    device_token: str | None = Field(None, max_length=128)


class RefreshIn(Input):
    refresh_token: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    session_id: uuid.UUID
    device_token: str | None = None


class SessionOut(BaseModel):
    id: uuid.UUID
    device: str
    address: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool


class SessionList(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None = None


class RevokedOut(BaseModel):
    revoked: int
