"""Bodies for officer shares, the caseworker's view of a client's diary, and drafted entries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.diary.incidents.schemas import IncidentOut
from app.schemas import Input, IsoDatetime, valid_unicode
from app.security.passwords import passcode_problems
from app.sharing.schemas import _display_text


def _strong_passcode(value: str) -> str:
    problems = passcode_problems(value)
    if problems:
        raise ValueError(problems[0])
    return value


ShareStatus = Literal["active", "expired", "revoked"]
RecipientText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_display_text)]
Reference = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_display_text)]
Passcode = Annotated[
    str,
    Field(
        min_length=8,
        max_length=128,
        description="At least 8 characters. Give it to the officer separately from the link "
        "(e.g. by phone); it is stored only as an argon2id hash.",
    ),
    AfterValidator(valid_unicode),
    AfterValidator(_strong_passcode),
]
MAX_SCOPE_SUBJECTS = 20


class ShareScope(BaseModel):
    """What the link shows: incidents that occurred in [from, to) about any of `subject_ids`
    (all subjects when empty), and the evidence attached to them when `include_evidence`."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    occurred_from: IsoDatetime | None = Field(
        None, alias="from", description="Occurred at or after (timezone required)."
    )
    occurred_to: IsoDatetime | None = Field(
        None, alias="to", description="Occurred before (exclusive)."
    )
    subject_ids: list[uuid.UUID] = Field(default=[], max_length=MAX_SCOPE_SUBJECTS)
    include_evidence: bool = False

    @model_validator(mode="after")
    def _to_after_from(self) -> ShareScope:
        if self.occurred_from and self.occurred_to and self.occurred_to <= self.occurred_from:
            raise ValueError("`to` must be after `from`")
        return self

    @property
    def is_whole_diary(self) -> bool:
        return self.occurred_from is None and self.occurred_to is None and not self.subject_ids


class ShareIn(Input):
    recipient_name: RecipientText = Field(examples=["PC Jane Smith"])
    force: RecipientText = Field(examples=["Kent Police"])
    crime_reference: Reference | None = Field(None, examples=["46/12345/26"])
    expires_at: IsoDatetime = Field(description="Required; in the future, at most a year away.")
    scope: ShareScope = Field(default_factory=ShareScope)
    passcode: Passcode | None = None


class Recipient(BaseModel):
    name: str
    force: str
    crime_reference: str | None


class ShareOut(BaseModel):
    id: uuid.UUID
    recipient: Recipient
    scope: ShareScope
    has_passcode: bool
    status: ShareStatus
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class ShareCreatedOut(ShareOut):
    token: str = Field(description="Shown once, never again: the secret part of the link.")
    url: str = Field(description="The link to give the officer. Shown once.")


class SharePage(BaseModel):
    items: list[ShareOut]
    next_cursor: str | None


class ShareAccessOut(BaseModel):
    id: uuid.UUID
    at: datetime
    action: Literal["share.accessed", "share.passcode_failed"]
    what: str = Field(
        description="summary, chronology.pdf, bundle.zip, an exhibit number, or passcode."
    )
    address: str | None
    user_agent: str | None


class ShareAccessPage(BaseModel):
    items: list[ShareAccessOut]
    next_cursor: str | None


class DraftMark(BaseModel):
    """Whose words an entry is: set when a caseworker drafted it on the victim's behalf."""

    revision: int = Field(description="The revision the caseworker wrote; later ones are not.")
    author: str
    organisation: str
    drafted_at: datetime
    note_id: uuid.UUID = Field(description="The caseworker note that recorded the draft.")
    reviewed: bool = Field(description="The victim has amended the entry since.")


class ClientIncidentOut(IncidentOut):
    drafted_by: DraftMark | None = Field(
        description="Set when a caseworker drafted this entry on the client's behalf."
    )


class ClientIncidentPage(BaseModel):
    items: list[ClientIncidentOut]
    next_cursor: str | None


class DraftOut(BaseModel):
    incident_id: uuid.UUID
    current_revision: int
    withdrawn: bool
    drafted_by: DraftMark


class DraftPage(BaseModel):
    items: list[DraftOut]
    next_cursor: str | None
