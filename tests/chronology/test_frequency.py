"""Frequency over time, gaps between incidents, and the trend rule in TREND_METHOD."""

from __future__ import annotations

from datetime import date, timedelta

from app.chronology.frequency import frequency, gap_analysis, trend
from app.chronology.model import IncidentFacts
from app.chronology.timeline import in_order

from .scenario import ids, iid, make_incident


def incidents_on(*days: str, behaviours: tuple[str, ...] = ("contacting",)) -> list[IncidentFacts]:
    return in_order(make_incident(day, day, behaviours) for day in days)


def test_weeks_and_months_include_the_empty_ones_between_incidents() -> None:
    found = frequency(incidents_on("2026-01-30", "2026-01-31", "2026-03-02"))

    assert [(w.period, w.starts_on, w.count) for w in found.by_week] == [
        ("2026-W05", date(2026, 1, 26), 2),
        ("2026-W06", date(2026, 2, 2), 0),
        ("2026-W07", date(2026, 2, 9), 0),
        ("2026-W08", date(2026, 2, 16), 0),
        ("2026-W09", date(2026, 2, 23), 0),
        ("2026-W10", date(2026, 3, 2), 1),
    ]
    assert found.by_week[0].incident_ids == ids("2026-01-30", "2026-01-31")
    assert [(m.period, m.count, m.incident_ids) for m in found.by_month] == [
        ("2026-01", 2, ids("2026-01-30", "2026-01-31")),
        ("2026-02", 0, []),
        ("2026-03", 1, ids("2026-03-02")),
    ]


def test_iso_weeks_cross_the_year_boundary() -> None:
    found = frequency(incidents_on("2026-12-31", "2027-01-04"))

    assert [w.period for w in found.by_week] == ["2026-W53", "2027-W01"]
    assert [m.period for m in found.by_month] == ["2026-12", "2027-01"]


def test_gaps_report_the_longest_with_the_incidents_either_side_and_the_median() -> None:
    gaps = gap_analysis(incidents_on("2026-01-01", "2026-01-03", "2026-01-13", "2026-01-14"))

    assert gaps.gap_count == 3
    assert gaps.median_days == 2.0
    assert gaps.longest is not None
    assert (gaps.longest.from_incident_id, gaps.longest.to_incident_id, gaps.longest.days) == (
        iid("2026-01-03"),
        iid("2026-01-13"),
        10.0,
    )
    assert gaps.long_gaps == []
    assert gaps.statement.incident_ids == ids("2026-01-03", "2026-01-13")


def test_gaps_longer_than_ninety_days_are_flagged() -> None:
    gaps = gap_analysis(incidents_on("2026-01-01", "2026-04-01", "2026-04-02", "2026-08-01"))

    assert [(g.from_incident_id, g.to_incident_id) for g in gaps.long_gaps] == [
        (iid("2026-04-02"), iid("2026-08-01"))
    ]
    # 1 Jan to 1 Apr is exactly 90 days: not longer than the threshold.
    assert gaps.statement.incident_ids == ids("2026-04-02", "2026-08-01")


def test_fewer_than_four_incidents_is_insufficient_data() -> None:
    found = trend(incidents_on("2026-01-01", "2026-02-01", "2026-03-01"))

    assert found.frequency.direction == "insufficient_data"
    assert found.severity.direction == "insufficient_data"
    assert found.split_at is None


def test_a_period_under_two_weeks_is_insufficient_data() -> None:
    found = trend(incidents_on("2026-01-01", "2026-01-02", "2026-01-05", "2026-01-10"))

    assert found.frequency.direction == "insufficient_data"


def weekly(*counts: int, start: str = "2026-01-05") -> list[IncidentFacts]:
    """`counts[n]` incidents in the n-th week from Monday `start` (Monday to Wednesday...)."""
    first = date.fromisoformat(start)
    days = [
        (first + timedelta(weeks=week, days=n)).isoformat()
        for week, count in enumerate(counts)
        for n in range(count)
    ]
    return in_order(make_incident(f"{day}-{n}", day, ["contacting"]) for n, day in enumerate(days))


def test_trend_shape_steady_is_stable() -> None:
    found = trend(weekly(1, 1, 1, 1, 1, 1, 1, 1, 1, 1))

    assert found.frequency.direction == "stable"
    assert (found.frequency.earlier_value, found.frequency.later_value) == (1, 1)
    assert "4 incidents in the last 4 weeks" in found.frequency.statement.text


def test_trend_shape_late_surge_is_escalating() -> None:
    # One a week for seven weeks, then 2, 3 and 4: the rise is all in the last weeks.
    incidents = weekly(1, 1, 1, 1, 1, 1, 1, 2, 3, 4)
    found = trend(incidents)

    assert found.frequency.direction == "escalating"
    assert (found.frequency.earlier_value, found.frequency.later_value) == (1, 2.5)
    assert found.frequency.statement.text == (
        "Incidents are becoming more frequent: 10 incidents in the last 4 weeks "
        "(from 16 February 2026, 2.5 a week) against 6 incidents in the 6 weeks before "
        "(1.0 a week)."
    )
    assert found.frequency.statement.incident_ids == [i.id for i in incidents[6:]]
    assert "last 4 weeks" in found.method


def test_trend_shape_early_burst_then_quiet_is_de_escalating() -> None:
    found = trend(weekly(5, 4, 3, 1, 1, 1, 0, 1, 0, 1))

    assert found.frequency.direction == "de-escalating"
    assert (found.frequency.earlier_value, found.frequency.later_value) == (2.5, 0.5)


def test_trend_shape_quiet_after_an_order_is_de_escalating_and_continued_contact_is_not() -> None:
    # Two a week until an order is served at the start of week 7, then nothing, then one.
    assert trend(weekly(2, 2, 2, 2, 2, 2, 0, 0, 0, 1)).frequency.direction == "de-escalating"
    # Contact that carries on at the same rate after the order is not a de-escalation.
    assert trend(weekly(2, 2, 2, 2, 2, 2, 2, 2, 2, 2)).frequency.direction == "stable"


def test_a_short_period_compares_its_last_half_of_weeks() -> None:
    found = trend(weekly(1, 1, 3, 4))

    assert found.frequency.direction == "escalating"
    assert "in the last 2 weeks" in found.frequency.statement.text


def test_frequency_is_stable_when_the_halves_are_close() -> None:
    found = trend(incidents_on("2026-01-01", "2026-01-10", "2026-01-20", "2026-01-31"))

    assert found.frequency.direction == "stable"
    assert found.frequency.earlier_incident_ids == ids("2026-01-01", "2026-01-10")
    assert found.frequency.later_incident_ids == ids("2026-01-20", "2026-01-31")


def test_severity_escalates_when_a_higher_level_first_appears_in_the_later_half() -> None:
    incidents = in_order(
        [
            make_incident("a", "2026-01-01", ["loitering"]),
            make_incident("b", "2026-01-10", ["loitering"]),
            make_incident("c", "2026-01-20", ["loitering"]),
            make_incident("d", "2026-01-31", ["contacting", "strangulation"]),
        ]
    )
    found = trend(incidents)

    assert found.severity.direction == "escalating"
    assert found.severity.statement.incident_ids == ids("d")
    assert [(f.severity, f.incident_id) for f in found.first_seen] == [
        (1, iid("d")),
        (2, iid("a")),
        (5, iid("d")),
    ]
