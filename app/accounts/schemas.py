"""Request and response bodies for accounts. Inputs forbid unknown fields (mass assignment)."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

Role = Literal["victim", "caseworker", "org_admin", "admin"]
# The jurisdictions whose law the course-of-conduct summary words (app.chronology.law).
Jurisdiction = Literal["england_wales", "scotland", "northern_ireland"]


def _username(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if not 3 <= len(value) <= 64:
        raise ValueError("must be 3 to 64 characters")
    if any(unicodedata.category(ch).startswith(("C", "Z")) and ch != " " for ch in value):
        raise ValueError("may not contain control or invisible characters")
    return value


Username = Annotated[str, Field(max_length=256), AfterValidator(_username)]
Password = Annotated[str, Field(min_length=1, max_length=4096)]
TotpCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterIn(Input):
    username: Username = Field(examples=["river-notebook"])
    password: Password = Field(examples=["correct horse battery staple"])
    email: EmailStr | None = Field(None, max_length=320)


class RegisterOut(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str


class MeOut(BaseModel):
    id: uuid.UUID
    username: str
    email: str | None
    role: Role
    jurisdiction: Jurisdiction
    totp_enabled: bool
    created_at: datetime
    password_changed_at: datetime


class MePatch(Input):
    email: EmailStr | None = Field(None, max_length=320)
    jurisdiction: Jurisdiction | None = None


class PasswordChangeIn(Input):
    current_password: Password
    new_password: Password
    totp_code: TotpCode | None = Field(None, description="Required when 2FA is on.")


class ReauthIn(Input):
    password: Password
    totp_code: TotpCode | None = None


class TotpEnrolOut(BaseModel):
    secret: str
    otpauth_uri: str


class TotpConfirmIn(Input):
    code: TotpCode


class SecurityEventOut(BaseModel):
    id: uuid.UUID
    kind: str
    created_at: datetime
    session_id: uuid.UUID | None
    address: str | None
    device: str | None


class SecurityEventPage(BaseModel):
    items: list[SecurityEventOut]
    next_cursor: str | None
