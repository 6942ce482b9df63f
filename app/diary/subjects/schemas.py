"""Subject bodies: the people responsible, their identifiers, and the orders and warnings
that bind them. Everything but the relationship code is stored encrypted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from app.diary.types import OrderKindCode, RelationshipCode
from app.schemas import Day, Input, Lines, Name, ShortText, Text


class SubjectOrder(Input):
    """A court order, bail conditions, or a warning such as a Police Information Notice."""

    kind: OrderKindCode = Field(description="`order_kinds` of GET /v1/taxonomy.")
    starts_on: Day = Field(description="Served or in force from; for a warning, when given.")
    ends_on: Day | None = None
    conditions: Text | None = Field(None, description="Its terms, e.g. not to contact her.")
    reference: ShortText | None = Field(None, description="Court or police reference.")

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> SubjectOrder:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


Orders = Annotated[list[SubjectOrder], Field(max_length=20)]


class SubjectFields(Input):
    name: Name = Field(description='Name or alias, e.g. "unknown man in a blue car".')
    relationship: RelationshipCode = "unknown"
    description: Text | None = None
    addresses: Lines = []
    vehicles: Lines = []
    online_accounts: Lines = Field(default=[], description="Phone numbers, handles, emails.")
    orders: Orders = []


class SubjectCreate(SubjectFields):
    id: uuid.UUID | None = Field(
        None, description="Client-chosen id: repeating the same create returns the original."
    )


class SubjectPatch(Input):
    """Top-level fields to replace; omitted fields keep their value, null clears an optional one."""

    name: Name | None = None
    relationship: RelationshipCode | None = None
    description: Text | None = None
    addresses: Lines | None = None
    vehicles: Lines | None = None
    online_accounts: Lines | None = None
    orders: Orders | None = None


class SubjectOut(SubjectFields):
    id: uuid.UUID
    revision: int
    etag: str
    recorded_at: datetime
    updated_at: datetime


class SubjectPage(BaseModel):
    items: list[SubjectOut]
    next_cursor: str | None


class SubjectRevisionOut(BaseModel):
    revision: int
    kind: Literal["created", "amended", "withdrawn"]
    recorded_at: datetime
    seq: int
    content: SubjectFields | None
    withdrawal_reason: str | None = None


class SubjectRevisionPage(BaseModel):
    items: list[SubjectRevisionOut]
    next_cursor: str | None
