"""What build_summary guarantees whatever the diary: determinism, validity, aware times."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from app.chronology.codes import TAXONOMY_VERSION
from app.chronology.model import IncidentFacts, Order
from app.chronology.summary import build_summary

from .scenario import at, iid, make_incident, make_subject, stalking_diary


def test_the_same_diary_in_any_order_gives_the_same_summary() -> None:
    diary = stalking_diary()
    expected = build_summary(diary.all, diary.subjects, generated_at=at("2026-05-01"))
    for seed in range(5):
        shuffled = diary.all
        random.Random(seed).shuffle(shuffled)
        again = build_summary(shuffled, list(diary.subjects), generated_at=at("2026-05-01"))
        assert again.model_dump_json() == expected.model_dump_json()


def test_ties_in_time_are_broken_by_recorded_at_then_id() -> None:
    when = at("2026-03-01")
    late = make_incident(
        "late", "2026-03-01", ["contacting"], recorded_at=when + timedelta(hours=2)
    )
    early = make_incident(
        "early", "2026-03-01", ["contacting"], recorded_at=when + timedelta(hours=1)
    )
    same_a = make_incident("same_a", "2026-03-01", ["contacting"], recorded_at=when)
    same_b = make_incident("same_b", "2026-03-01", ["contacting"], recorded_at=when)
    summary = build_summary(
        [late, same_a, early, same_b], [make_subject("daniel")], generated_at=at("2026-04-01")
    )

    by_id = sorted([iid("same_a"), iid("same_b")])
    assert [e.incident_id for e in summary.timeline] == [*by_id, iid("early"), iid("late")]


def test_an_empty_diary_gives_a_valid_empty_summary() -> None:
    summary = build_summary([], [], generated_at=at("2026-05-01"))

    assert summary.taxonomy_version == TAXONOMY_VERSION
    assert summary.period.incident_count == 0 and summary.period.first_occurred_at is None
    assert summary.timeline == [] and summary.offences == [] and summary.risk_markers == []
    assert summary.course_of_conduct == [] and summary.breaches == [] and summary.subjects == []
    assert summary.frequency.by_week == [] and summary.gaps.overall.longest is None
    assert summary.trend.frequency.direction == "insufficient_data"
    four = summary.four
    assert not any(
        m.indicated for m in (four.fixated, four.obsessive, four.unwanted, four.repeated)
    )
    assert json.loads(summary.model_dump_json())["disclaimer"].startswith("This summary lists")


def test_the_summary_is_plain_json_with_uuid_ids() -> None:
    diary = stalking_diary()
    body = json.loads(
        build_summary(diary.all, diary.subjects, generated_at=at("2026-05-01")).model_dump_json()
    )
    assert body["timeline"][0]["incident_id"] == str(iid("text_1"))
    assert body["generated_at"] == "2026-05-01T18:30:00Z"
    assert "not legal advice" in body["disclaimer"]


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 3, 1, 12, 0)
    aware = at("2026-03-01")
    with pytest.raises(ValueError, match="occurred_at must be timezone-aware"):
        IncidentFacts(uuid4(), naive, "exact", aware, ("contacting",))
    with pytest.raises(ValueError, match="recorded_at must be timezone-aware"):
        IncidentFacts(uuid4(), aware, "exact", naive, ("contacting",))
    with pytest.raises(ValueError, match="ended_at must be timezone-aware"):
        IncidentFacts(uuid4(), aware, "exact", aware, ("contacting",), ended_at=naive)
    with pytest.raises(ValueError, match="generated_at must be timezone-aware"):
        build_summary([], [], generated_at=naive)


def test_other_timezones_are_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    incident = IncidentFacts(
        uuid4(), datetime(2026, 3, 1, 0, 30, tzinfo=paris), "exact", at("2026-03-01"), ()
    )
    assert incident.occurred_at == at("2026-02-28", "23:30")
    assert incident.occurred_at.tzinfo == UTC
    assert incident.occurred_on.isoformat() == "2026-02-28"


def test_unknown_codes_and_impossible_facts_are_rejected() -> None:
    aware = at("2026-03-01")
    with pytest.raises(ValueError, match="unknown code"):
        IncidentFacts(uuid4(), aware, "exact", aware, ("hacking",))
    with pytest.raises(ValueError, match="unknown code"):
        IncidentFacts(uuid4(), aware, "sometime", aware, ())
    with pytest.raises(ValueError, match="unknown code"):
        IncidentFacts(uuid4(), aware, "exact", aware, (), channel="pigeon")
    with pytest.raises(ValueError, match="end before it starts"):
        IncidentFacts(uuid4(), aware, "exact", aware, (), ended_at=aware - timedelta(hours=1))
    with pytest.raises(ValueError, match="unknown code"):
        make_subject("daniel", relationship="rival")
    with pytest.raises(ValueError, match="end before it starts"):
        Order("restraining_order", aware.date(), aware.date() - timedelta(days=1), "")


def test_duplicate_ids_and_unknown_jurisdictions_are_rejected() -> None:
    incident = make_incident("x", "2026-03-01", ["contacting"])
    with pytest.raises(ValueError, match="duplicate incident id"):
        build_summary([incident, incident], [], generated_at=at("2026-04-01"))
    with pytest.raises(ValueError, match="duplicate subject id"):
        build_summary([], [make_subject("a"), make_subject("a")], generated_at=at("2026-04-01"))
    with pytest.raises(ValueError, match="unknown jurisdiction"):
        build_summary([], [], generated_at=at("2026-04-01"), jurisdiction="wales")
