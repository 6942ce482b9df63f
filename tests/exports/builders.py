"""Test data for exports: the realistic stalking diary with words in every entry, exhibits with
real bytes, and a real hash chain (events and revisions, built with app.integrity) to match.
"""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from app.chronology.model import IncidentFacts, SubjectFacts
from app.chronology.schemas import Summary
from app.chronology.summary import build_summary
from app.crypto.signing import SigningKeys
from app.evidence.exhibits import Exhibit
from app.exports.bundle.write import BundleResult, write_bundle
from app.integrity.canonical import (
    GENESIS_HASH,
    LinkFields,
    content_commitment,
    link_hash,
    optional_timestamp,
    timestamp,
)
from tests.chronology.scenario import iid, stalking_diary

GENERATED_AT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def described(incident: IncidentFacts, name: str) -> IncidentFacts:
    text = incident.description or f"Entry {name}: he would not leave me alone."
    return replace(incident, description=text)


@dataclass
class Diary:
    incidents: list[IncidentFacts]
    subjects: list[SubjectFacts]
    names: dict[UUID, str]

    def summary(self) -> Summary:
        return build_summary(self.incidents, self.subjects, generated_at=GENERATED_AT)


def scenario() -> Diary:
    """tests/chronology/scenario.py's four-month diary, every entry with a description."""
    diary = stalking_diary()
    incidents = [described(incident, name) for name, incident in diary.incidents.items()]
    names = {incident.id: name for name, incident in diary.incidents.items()}
    return Diary(incidents, list(diary.subjects), names)


def evidence_bytes(number: int, size: int) -> bytes:
    return random.Random(number).randbytes(size)


@dataclass
class Evidence:
    exhibits: list[Exhibit]
    files: dict[str, bytes]  # exhibit number -> content

    def open(self, exhibit: Exhibit) -> Iterator[bytes]:
        data = self.files[exhibit.number]
        view = memoryview(data)
        for start in range(0, len(data), 4096):
            yield bytes(view[start : start + 4096])


def evidence_for(incident_ids: Iterable[UUID], *, size: int = 20_000) -> Evidence:
    exhibits, files = [], {}
    names = ["car bonnet scratched.jpg", "text from new number.png", "../../etc/passwd"]
    for index, incident_id in enumerate(incident_ids, start=1):
        number = f"EX-{index:03d}"
        data = evidence_bytes(index, size + index)
        files[number] = data
        exhibits.append(
            Exhibit(
                number=number,
                evidence_id=uuid5(NAMESPACE_URL, f"evidence:{index}"),
                caption=f"Exhibit {index}: photograph taken that evening",
                media_type="image/jpeg",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                captured_at=datetime(2026, 3, 10, 18, 40, tzinfo=UTC),
                received_at=datetime(2026, 3, 10, 19, 5, index, tzinfo=UTC),
                file_name=names[(index - 1) % len(names)],
                incident_id=incident_id,
            )
        )
    return Evidence(exhibits, files)


def incident_content(incident: IncidentFacts) -> dict[str, Any]:
    """The canonical incident document of docs/integrity.md."""
    return {
        "behaviours": sorted(incident.behaviours),
        "channel": incident.channel,
        "coordinates": None,
        "description": incident.description,
        "ended_at": optional_timestamp(incident.ended_at),
        "evidence_ids": [],
        "impact": {
            "alarm_or_distress": incident.alarm_or_distress,
            "daily_life_changes": sorted(incident.daily_life_changes),
            "details": None,
            "fear_of_violence": incident.fear_of_violence,
        },
        "location": incident.location,
        "occurred_at": timestamp(incident.occurred_at),
        "platform": incident.platform,
        "police": {"officer": None, "outcome": None, "references": []},
        "precision": incident.precision,
        "recorded_contemporaneously": incident.recorded_contemporaneously,
        "reported_to_police": incident.reported_to_police,
        "subject_ids": sorted(str(s) for s in incident.subject_ids),
        "via_third_party": incident.via_third_party,
        "witnesses": incident.witnesses,
    }


class ChainBuilder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.revisions: list[dict[str, Any]] = []

    def append(
        self,
        kind: str,
        object_id: UUID,
        content_sha256: str,
        *,
        occurred_at: datetime | None,
        recorded_at: datetime,
    ) -> None:
        fields = LinkFields(
            seq=len(self.events) + 1,
            prev_hash=self.events[-1]["hash"] if self.events else GENESIS_HASH,
            kind=kind,
            object_id=object_id,
            revision=1,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            content_sha256=content_sha256,
        )
        self.events.append({**fields.document(), "hash": link_hash(fields)})

    def incident(self, incident: IncidentFacts) -> None:
        content = incident_content(incident)
        salt = hashlib.sha256(str(incident.id).encode()).digest()
        self.append(
            "incident.created",
            incident.id,
            content_commitment(salt, content),
            occurred_at=incident.occurred_at,
            recorded_at=incident.recorded_at,
        )
        self.revisions.append(
            {"object_id": str(incident.id), "revision": 1, "salt": salt.hex(), "content": content}
        )

    def document(self) -> dict[str, Any]:
        return {"events": self.events, "revisions": self.revisions}


def chain_for(diary: Diary, evidence: Evidence) -> dict[str, Any]:
    """One incident.created per incident (by recorded_at), then one evidence.added per exhibit."""
    builder = ChainBuilder()
    for incident in sorted(diary.incidents, key=lambda i: i.recorded_at):
        builder.incident(incident)
    last = max((i.recorded_at for i in diary.incidents), default=GENERATED_AT)
    for offset, exhibit in enumerate(evidence.exhibits, start=1):
        builder.append(
            "evidence.added",
            exhibit.evidence_id,
            exhibit.sha256,
            occurred_at=None,
            recorded_at=last + timedelta(minutes=offset),
        )
    return builder.document()


def car_incident() -> UUID:
    return iid("car")


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path: Path, files: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def flip_middle_byte(data: bytes) -> bytes:
    index = len(data) // 2
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def make_bundle(
    path: Path,
    diary: Diary,
    evidence: Evidence,
    keys: SigningKeys,
    chain: dict[str, Any] | None = None,
) -> BundleResult:
    return write_bundle(
        path,
        summary=diary.summary(),
        exhibits=evidence.exhibits,
        open_evidence=evidence.open,
        chain=chain if chain is not None else chain_for(diary, evidence),
        identification="J.S. / ref 2026-114",
        keys=keys,
        generated_at=GENERATED_AT,
    )
