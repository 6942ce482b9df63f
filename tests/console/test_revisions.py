"""What the console says each revision of an incident changed (app.console.revisions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.console.revisions import Change, revision_rows
from app.diary.incidents.schemas import IncidentFields, IncidentRevisionOut

WINTER = datetime(2026, 1, 10, 21, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 10, 21, 5, tzinfo=UTC)


def _revision(number: int, kind: str, content: dict[str, Any] | None, **extra: Any) -> Any:
    fields = IncidentFields(**content) if content is not None else None
    recorded = SUMMER if number > 1 else WINTER
    return IncidentRevisionOut(
        revision=number, kind=kind, recorded_at=recorded, seq=number, content=fields, **extra
    )


BASE = {"occurred_at": WINTER, "behaviours": ["loitering"], "description": "At the gate."}


def test_the_first_revision_says_what_it_held_and_later_ones_only_what_changed() -> None:
    rows = revision_rows(
        [
            _revision(1, "created", BASE),
            _revision(2, "amended", {**BASE, "behaviours": ["loitering", "following"]}),
            _revision(3, "amended", {**BASE, "behaviours": ["loitering", "following"]}),
        ]
    )
    assert [(r.number, r.kind) for r in rows] == [(1, "Written"), (2, "Amended"), (3, "Amended")]
    assert rows[0].changes == [
        Change("When it happened", "10 January 2026, 21:05 GMT"),
        Change("How exact the time is", "Exact"),
        Change("What happened", "Loitering"),
        Change("In the client's words", "At the gate."),
    ]
    assert rows[1].changes == [Change("What happened", "Following, Loitering")]
    assert rows[2].changes == []
    assert rows[0].recorded.endswith("GMT") and rows[1].recorded.endswith("BST")


def test_a_withdrawal_gives_its_reason_and_erased_revisions_say_so() -> None:
    rows = revision_rows(
        [
            _revision(1, "created", None),
            _revision(2, "withdrawn", None, withdrawal_reason="Entered twice"),
        ]
    )
    assert rows[0].changes == [] and rows[0].note is not None and "erased" in rows[0].note
    assert rows[1].kind == "Withdrawn" and rows[1].note == "Reason given: Entered twice"
