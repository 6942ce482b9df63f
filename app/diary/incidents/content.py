"""An incident revision in its three forms: API fields, stored row + sealed part, canonical doc.

The canonical document (what the chain commits to, see docs/integrity.md) has every field,
always, encoded as app.integrity.canonical says:

    behaviours          sorted list of codes
    channel             code or null
    coordinates         null or {"latitude_e7": int, "longitude_e7": int} (degrees x 10^7)
    description         string
    ended_at            timestamp or null
    evidence_ids        sorted list of UUIDs
    impact              {"alarm_or_distress": bool, "daily_life_changes": sorted codes,
                         "details": string or null, "fear_of_violence": bool}
    location            string or null
    occurred_at         timestamp
    platform            string or null
    police              {"officer": string or null, "outcome": string or null,
                         "references": list of strings, in the order given}
    precision           code
    recorded_contemporaneously   bool or null (null: the victim did not say)
    reported_to_police, via_third_party   bool
    subject_ids         sorted list of UUIDs
    victim_actions      sorted list of codes (absent from revisions stored before it existed:
                        the document is what was sealed, so their hashes still verify)
    witnesses           string or null

The plain columns hold the keys in PLAIN_COLUMNS; the sealed part holds all the others, already
in canonical encoding, so the document is the sealed part plus the plain columns re-encoded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.db import from_tags, to_tags
from app.diary.incidents.schemas import Coordinates, Impact, IncidentFields, Police
from app.integrity.canonical import optional_timestamp, timestamp
from app.models import IncidentRevision

TABLE = "incident_revisions"
PLAIN_COLUMNS = (
    "occurred_at",
    "ended_at",
    "precision",
    "behaviours",
    "subject_ids",
    "channel",
    "reported_to_police",
    "evidence_ids",
)
E7 = 10_000_000


def plain_columns(fields: IncidentFields) -> dict[str, Any]:
    return {
        "occurred_at": fields.occurred_at,
        "ended_at": fields.ended_at,
        "precision": fields.precision,
        "behaviours": to_tags(fields.behaviours),
        "subject_ids": to_tags(fields.subject_ids),
        "channel": fields.channel,
        "reported_to_police": fields.reported_to_police,
        "evidence_ids": to_tags(fields.evidence_ids),
    }


def row_columns(row: IncidentRevision) -> dict[str, Any]:
    return {name: getattr(row, name) for name in PLAIN_COLUMNS}


def sealed_content(fields: IncidentFields) -> dict[str, Any]:
    """The encrypted part of a revision, in canonical encoding."""
    coordinates = fields.coordinates
    return {
        "coordinates": None
        if coordinates is None
        else {
            "latitude_e7": round(coordinates.latitude * E7),
            "longitude_e7": round(coordinates.longitude * E7),
        },
        "description": fields.description,
        "impact": {
            "alarm_or_distress": fields.impact.alarm_or_distress,
            "daily_life_changes": list(fields.impact.daily_life_changes),
            "details": fields.impact.details,
            "fear_of_violence": fields.impact.fear_of_violence,
        },
        "location": fields.location,
        "platform": fields.platform,
        "police": {
            "officer": fields.police.officer,
            "outcome": fields.police.outcome,
            "references": list(fields.police.references),
        },
        "recorded_contemporaneously": fields.recorded_contemporaneously,
        "via_third_party": fields.via_third_party,
        "victim_actions": list(fields.victim_actions),
        "witnesses": fields.witnesses,
    }


def document(columns: Mapping[str, Any], sealed: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical content document; ValueError if the plain columns cannot be encoded."""
    if columns["occurred_at"] is None:
        raise ValueError("occurred_at is missing")
    return {
        **sealed,
        "behaviours": from_tags(columns["behaviours"]),
        "channel": columns["channel"],
        "ended_at": optional_timestamp(columns["ended_at"]),
        "evidence_ids": from_tags(columns["evidence_ids"]),
        "occurred_at": timestamp(columns["occurred_at"]),
        "precision": columns["precision"],
        "reported_to_police": columns["reported_to_police"],
        "subject_ids": from_tags(columns["subject_ids"]),
    }


def fields_document(fields: IncidentFields) -> dict[str, Any]:
    return document(plain_columns(fields), sealed_content(fields))


def read_fields(row: IncidentRevision, sealed: Mapping[str, Any]) -> dict[str, Any]:
    """The API field values of a stored revision, without re-validating what was validated."""
    coordinates = sealed["coordinates"]
    impact = sealed["impact"]
    police = sealed["police"]
    return {
        "occurred_at": row.occurred_at,
        "ended_at": row.ended_at,
        "precision": row.precision,
        "subject_ids": [uuid.UUID(value) for value in from_tags(row.subject_ids)],
        "behaviours": from_tags(row.behaviours),
        "via_third_party": sealed["via_third_party"],
        "recorded_contemporaneously": sealed["recorded_contemporaneously"],
        "channel": row.channel,
        "platform": sealed["platform"],
        "location": sealed["location"],
        "coordinates": None
        if coordinates is None
        else Coordinates.model_construct(
            latitude=coordinates["latitude_e7"] / E7, longitude=coordinates["longitude_e7"] / E7
        ),
        "description": sealed["description"],
        "impact": Impact.model_construct(**impact),
        "victim_actions": sealed.get("victim_actions", []),
        "witnesses": sealed["witnesses"],
        "reported_to_police": row.reported_to_police,
        "police": Police.model_construct(**police),
        "evidence_ids": [uuid.UUID(value) for value in from_tags(row.evidence_ids)],
    }
