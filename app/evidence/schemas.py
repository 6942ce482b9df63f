"""Evidence bodies: the record as the owner sees it, and what she may change about it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from app.schemas import Input, Text

# The ids of incidents a file is evidence for; each must be a live incident of the account.
IncidentIds = Annotated[
    list[uuid.UUID], Field(max_length=100), AfterValidator(lambda ids: sorted(set(ids)))
]
Caption = Text


class Capture(BaseModel):
    """What the file's own metadata says (EXIF); the device's word, not a verified fact."""

    captured_at: datetime | None = None
    device: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    width: int | None = None
    height: int | None = None


class EvidenceOut(BaseModel):
    id: uuid.UUID
    media_type: str = Field(description="Sniffed from the content, never taken from the client.")
    size: int = Field(description="Bytes of the original file.")
    sha256: str = Field(description="SHA-256 of the original file, as the chain records it.")
    file_name: str = Field(description="As the device named it (shown, never used as a path).")
    caption: str
    incident_ids: list[uuid.UUID]
    capture: Capture
    received_at: datetime = Field(description="When the server had the whole file.")
    etag: str = Field(
        description="What this shows, as If-Match takes it: a change here changes it, and so "
        "does an incident that lists this file from its side."
    )


class EvidencePage(BaseModel):
    items: list[EvidenceOut]
    next_cursor: str | None


class EvidencePatch(Input):
    """Fields to replace; omitted fields keep their value."""

    caption: Caption | None = None
    incident_ids: IncidentIds | None = None


class UploadOut(BaseModel):
    """An unfinished tus upload: resume it with HEAD and PATCH at `location`, or DELETE it."""

    id: uuid.UUID = Field(description="The upload's id; the evidence id once it is finished.")
    location: str = Field(description="/v1/uploads/{id}")
    offset: int = Field(description="Bytes received and stored so far.")
    length: int = Field(description="The file's size, as Upload-Length said.")
    file_name: str
    caption: str
    incident_ids: list[uuid.UUID]
    created_at: datetime
    expires_at: datetime = Field(description="When it is removed if still unfinished.")


class UploadList(BaseModel):
    items: list[UploadOut] = Field(
        description="Oldest first; at most MAX_OPEN_UPLOADS (20 by default), so never paged."
    )
