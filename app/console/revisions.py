"""An incident's revisions as the console lists them: number, time and what changed.

A pure function over the revisions the diary service returns (oldest first): each amended
revision is compared with the one before it, field by field, and the fields that differ are
named in plain words with what they became. Times are UK local time with the zone marked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.chronology.codes import BEHAVIOURS, CHANNEL_TERMS, PRECISION_TERMS
from app.chronology.text import time_text
from app.diary.incidents.schemas import IncidentFields, IncidentRevisionOut

_BEHAVIOUR = {b.code: b.label for b in BEHAVIOURS}
_CHANNEL = {t.code: t.label for t in CHANNEL_TERMS}
_PRECISION = {t.code: t.label for t in PRECISION_TERMS}


def _yes_no(value: Any) -> str:
    return "not said" if value is None else ("yes" if value else "no")


def _count(one: str, many: str) -> Callable[[Any], str]:
    return lambda value: f"{len(value)} {one if len(value) == 1 else many}"


def _text(value: Any) -> str:
    return str(value) if value else "(left empty)"


# Each field: its name for people, and how its value reads.
_FIELDS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "occurred_at": ("When it happened", lambda v: time_text(v)),
    "ended_at": ("When it ended", lambda v: time_text(v) if v else "(left empty)"),
    "precision": ("How exact the time is", lambda v: _PRECISION.get(v, v)),
    "subject_ids": ("The people involved", _count("person", "people")),
    "behaviours": ("What happened", lambda v: ", ".join(_BEHAVIOUR.get(c, c) for c in v)),
    "via_third_party": ("Done through someone else", _yes_no),
    "recorded_contemporaneously": ("Written at the time", _yes_no),
    "channel": ("How", lambda v: _CHANNEL.get(v, v) if v else "(left empty)"),
    "platform": ("App, site or number", _text),
    "location": ("Where", _text),
    "coordinates": ("Map position", lambda v: "given" if v else "(left empty)"),
    "description": ("In the client's words", _text),
    "impact": ("The effect on the client", lambda v: "changed"),
    "victim_actions": ("What the client did to make it stop", _count("action", "actions")),
    "witnesses": ("Witnesses", _text),
    "reported_to_police": ("Reported to the police", _yes_no),
    "police": ("Police details", lambda v: "changed"),
    "evidence_ids": ("Evidence linked", _count("file", "files")),
}
_KINDS = {"created": "Written", "amended": "Amended", "withdrawn": "Withdrawn"}


@dataclass(frozen=True)
class Change:
    field: str
    value: str


@dataclass(frozen=True)
class RevisionRow:
    number: int
    kind: str
    recorded: str
    changes: list[Change]
    note: str | None  # the withdrawal's reason, or why nothing can be compared


def _changes(before: IncidentFields | None, after: IncidentFields) -> list[Change]:
    # Read as attributes, not dumped: the service builds revisions without re-validating.
    new = {name: getattr(after, name, None) for name in _FIELDS}
    if before is None:  # the first revision: what it said, leaving out what it left empty
        fields = [name for name, value in new.items() if value not in (None, "", [], False)]
        fields = [name for name in fields if name not in ("impact", "police")]
    else:
        fields = [name for name in _FIELDS if getattr(before, name, None) != new[name]]
    return [Change(_FIELDS[n][0], _FIELDS[n][1](getattr(after, n))) for n in fields]


def revision_rows(revisions: Sequence[IncidentRevisionOut]) -> list[RevisionRow]:
    rows: list[RevisionRow] = []
    before: IncidentFields | None = None
    for item in revisions:
        note = None
        changes: list[Change] = []
        if item.kind == "withdrawn":
            note = f"Reason given: {item.withdrawal_reason}" if item.withdrawal_reason else None
        elif item.content is None:
            note = "The client withdrew this entry, so what this revision said was erased."
        else:
            changes = _changes(before if item.kind == "amended" else None, item.content)
            before = item.content
        kind = _KINDS[item.kind]
        rows.append(RevisionRow(item.revision, kind, time_text(item.recorded_at), changes, note))
    return rows
