"""Request and response bodies for sharing. Inputs forbid unknown fields (mass assignment)."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from app.accounts.schemas import ChosenName, Password
from app.schemas import Input, IsoDatetime, valid_unicode

OrganisationKind = Literal["support_service", "police_force"]
StaffRole = Literal["caseworker", "org_admin"]
Scope = Literal["summary", "diary", "assist"]
GrantStatus = Literal["active", "expired", "revoked"]


def _display_text(value: str) -> str:
    """Names other people read: normalised, trimmed, no control or invisible characters."""
    value = unicodedata.normalize("NFKC", valid_unicode(value)).strip()
    if not value:
        raise ValueError("must not be blank")
    if any(unicodedata.category(ch).startswith(("C", "Z")) and ch != " " for ch in value):
        raise ValueError("may not contain control or invisible characters")
    return value


DisplayName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_display_text)]
OrganisationName = Annotated[
    str, Field(min_length=1, max_length=200), AfterValidator(_display_text)
]
Label = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(valid_unicode)]
NoteText = Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(valid_unicode)]
Code = Annotated[str, Field(min_length=1, max_length=128)]


class OrganisationIn(Input):
    name: OrganisationName = Field(examples=["Safe Haven Stalking Advocacy"])
    kind: OrganisationKind


class OrganisationOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: OrganisationKind
    created_at: datetime


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    next_cursor: str | None


class InvitationIn(Input):
    role: StaffRole
    expires_in_days: int = Field(7, ge=1, le=30)


class InvitationOut(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    role: StaffRole
    code: str = Field(description="Shown once. Give it to the invitee by a trusted channel.")
    expires_at: datetime


class InvitationAcceptIn(Input):
    code: Code
    username: ChosenName
    password: Password
    display_name: DisplayName = Field(
        description="The name clients see, e.g. 'Sam Okafor, IDVA'.", examples=["Sam Okafor"]
    )


class InvitationAcceptOut(BaseModel):
    status: Literal["created"] = "created"
    username: str = Field(
        description="Your full username, with the suffix the server added. Shown once.",
        examples=["sam-okafor-4821"],
    )
    detail: str


class LinkCodeIn(Input):
    label: Label | None = Field(
        None, description="Your own name for the client; only you see it.", examples=["J. ref 113"]
    )


class LinkCodeOut(BaseModel):
    id: uuid.UUID
    code: str = Field(description="Shown once. Give it to your client, who enters it in the app.")
    label: str | None
    expires_at: datetime


class GrantIn(Input):
    id: uuid.UUID | None = Field(
        None, description="Your own id for the grant: sending the same create again returns it."
    )
    link_code: Code
    scope: Scope = Field(
        description="summary: the course-of-conduct analysis only (counts, dates, behaviours, "
        "statements with incident numbers, risk markers, trend, offences, S-DASH answers as "
        "yes/no), without anything you wrote in your own words (descriptions, places, "
        "witnesses, police references, names, order terms, screening notes); diary: also your "
        "words, the incidents and the evidence; assist: also drafting incidents for you to "
        "confirm, notes, recording S-DASH screenings with you and preparing exports for you."
    )
    expires_at: IsoDatetime = Field(description="Required; in the future, at most a year away.")


class OrganisationRef(BaseModel):
    id: uuid.UUID
    name: str
    kind: OrganisationKind


class CaseworkerRef(BaseModel):
    display_name: str
    organisation: OrganisationRef


class GrantOut(BaseModel):
    id: uuid.UUID
    scope: Scope
    status: GrantStatus
    caseworker: CaseworkerRef | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class GrantPage(BaseModel):
    items: list[GrantOut]
    next_cursor: str | None


class ClientOut(BaseModel):
    id: uuid.UUID = Field(description="The client id: the grant's id, not the client's account.")
    scope: Scope
    label: str | None
    granted_at: datetime
    expires_at: datetime


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None


class NoteIn(Input):
    text: NoteText


class NoteOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID | None = Field(description="The grant it was written under.")
    author: str
    organisation: str
    text: str
    created_at: datetime


class NotePage(BaseModel):
    items: list[NoteOut]
    next_cursor: str | None
