"""Request and response bodies for accounts. Inputs forbid unknown fields (mass assignment)."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, EmailStr, Field

from app.schemas import Input

Role = Literal["victim", "caseworker", "org_admin", "admin"]
# The jurisdictions whose law the course-of-conduct summary words (app.chronology.law).
Jurisdiction = Literal["england_wales", "scotland", "northern_ireland"]


def _name(value: str, longest: int) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if not 3 <= len(value) <= longest:
        raise ValueError(f"must be 3 to {longest} characters")
    if any(unicodedata.category(ch).startswith(("C", "Z")) and ch != " " for ch in value):
        raise ValueError("may not contain control or invisible characters")
    return value


def _username(value: str) -> str:
    return _name(value, 64)


def _chosen_name(value: str) -> str:
    # The server appends "-" and at least four digits, and the full handle must fit in 64.
    return _name(value, 55)


# The full login handle, as registration returned it (e.g. "river-notebook-4821").
Username = Annotated[str, Field(max_length=256), AfterValidator(_username)]
# The part a person chooses at registration; the server adds the suffix.
ChosenName = Annotated[str, Field(max_length=256), AfterValidator(_chosen_name)]
Password = Annotated[str, Field(min_length=1, max_length=4096)]
TotpCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class RegisterIn(Input):
    username: ChosenName = Field(
        examples=["river-notebook"],
        description="The start of your username; the server adds a random suffix.",
    )
    password: Password = Field(examples=["correct horse battery staple"])
    email: EmailStr | None = Field(None, max_length=320)


class RegisterOut(BaseModel):
    status: Literal["created"] = "created"
    username: str = Field(
        description="Your full username, with the suffix the server added: you log in with it. "
        "Shown here once; write it down.",
        examples=["river-notebook-4821"],
    )
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


class RecoveryCodesOut(BaseModel):
    codes: list[str] = Field(
        description="Ten one-time codes, shown only here. Keep them somewhere the abuser cannot "
        "see. Each works once, with your password, to log in without your authenticator or "
        "while failed attempts by someone else hold your account in back-off.",
        examples=[["k7dm-qp2x-h9wr-tf3n"]],
    )
    detail: str


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
