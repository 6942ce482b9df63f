"""Breach of an order: only while it is in force, and only by the subject it is against."""

from __future__ import annotations

from datetime import date

from app.chronology.model import IncidentFacts, Order, SubjectFacts
from app.chronology.schemas import OffenceIndicator, Summary
from app.chronology.summary import build_summary

from .scenario import at, ids, make_incident, make_subject, sid

RESTRAINING = Order(
    kind="restraining_order",
    starts_on=date(2026, 3, 10),
    ends_on=date(2026, 6, 30),
    conditions="Not to contact her.",
)


def summarise(incidents: list[IncidentFacts], subjects: list[SubjectFacts]) -> Summary:
    return build_summary(incidents, subjects, generated_at=at("2026-12-01"))


def breach_indicator(summary: Summary, subject: str) -> OffenceIndicator:
    (found,) = [
        o for o in summary.offences if o.code == "breach_of_order" and o.subject_id == sid(subject)
    ]
    return found


def test_breach_detection_respects_the_orders_dates() -> None:
    incidents = [
        make_incident("before", "2026-03-09", ["contacting"]),
        make_incident("first_day", "2026-03-10", ["contacting"]),
        make_incident("during", "2026-05-01", ["contacting"]),
        make_incident("last_day", "2026-06-30", ["contacting"]),
        make_incident("after", "2026-07-01", ["contacting"]),
    ]
    summary = summarise(incidents, [make_subject("daniel", orders=(RESTRAINING,))])

    (breach,) = summary.breaches
    assert breach.incident_ids == ids("first_day", "during", "last_day")
    assert breach.statement.text.startswith(
        "3 incidents attributed to Daniel while the restraining order "
        "(10 March 2026 to 30 June 2026) was in force."
    )
    assert breach.statement.text.endswith('the terms recorded: "Not to contact her."')
    assert breach_indicator(summary, "daniel").incident_ids == ids(
        "first_day", "during", "last_day"
    )


def test_an_order_against_one_subject_is_not_breached_by_another() -> None:
    incidents = [
        make_incident("daniel", "2026-04-01", ["contacting"], subject="daniel"),
        make_incident("mark", "2026-04-02", ["contacting"], subject="mark"),
    ]
    subjects = [make_subject("daniel", orders=(RESTRAINING,)), make_subject("mark", "stranger")]
    summary = summarise(incidents, subjects)

    (breach,) = summary.breaches
    assert (breach.subject_id, breach.incident_ids) == (sid("daniel"), ids("daniel"))
    assert breach_indicator(summary, "daniel").indicated
    assert not breach_indicator(summary, "mark").indicated


def test_an_order_with_no_end_date_stays_in_force() -> None:
    open_ended = Order(
        kind="stalking_protection_order", starts_on=date(2026, 1, 1), ends_on=None, conditions=""
    )
    incident = make_incident("years_later", "2029-01-01", ["loitering"])
    summary = summarise([incident], [make_subject("daniel", orders=(open_ended,))])

    assert summary.breaches[0].incident_ids == ids("years_later")
    assert "with no end date" in summary.breaches[0].statement.text
    assert summary.breaches[0].statement.text.endswith("(none are recorded here).")


def test_an_incident_coded_as_a_breach_is_indicated_without_an_order_on_file() -> None:
    incidents = [make_incident("coded", "2026-04-01", ["contacting", "breach_of_order"])]
    summary = summarise(incidents, [make_subject("daniel")])

    assert summary.breaches == []
    indicator = breach_indicator(summary, "daniel")
    assert indicator.indicated and indicator.incident_ids == ids("coded")


def test_a_police_information_notice_is_a_warning_not_an_order() -> None:
    notice = Order(
        kind="police_information_notice",
        starts_on=date(2026, 3, 10),
        ends_on=None,
        conditions="Warned about contacting her.",
    )
    incidents = [
        make_incident("before", "2026-03-01", ["contacting"]),
        make_incident("after", "2026-03-20", ["contacting"]),
    ]
    summary = summarise(incidents, [make_subject("daniel", orders=(notice,))])

    assert summary.breaches == []
    assert not breach_indicator(summary, "daniel").indicated
    (unwanted,) = summary.four.unwanted.statements
    assert unwanted.text == (
        "Conduct attributed to Daniel continued on or after the police information notice of "
        "10 March 2026: 1 incident."
    )
    assert unwanted.incident_ids == ids("after")


def test_conduct_after_a_warning_is_unwanted() -> None:
    incidents = [
        make_incident("before", "2026-03-01", ["contacting"]),
        make_incident("after", "2026-03-20", ["contacting"]),
    ]
    summary = summarise(incidents, [make_subject("daniel", warned_on=date(2026, 3, 15))])

    assert summary.four.unwanted.indicated
    assert summary.four.unwanted.statements[0].incident_ids == ids("after")
    assert summary.breaches == []


def test_an_incident_dated_only_to_the_month_the_order_began_is_date_uncertain() -> None:
    incidents = [
        make_incident("sometime_in_march", "2026-03-01", ["contacting"], precision="month"),
        make_incident("april", "2026-04-01", ["contacting"], precision="day"),
    ]
    summary = summarise(incidents, [make_subject("daniel", orders=(RESTRAINING,))])

    (breach,) = summary.breaches
    assert breach.incident_ids == ids("april")
    assert breach.date_uncertain_incident_ids == ids("sometime_in_march")
    assert "dated only to a month" in breach.statement.text
    assert breach_indicator(summary, "daniel").incident_ids == ids("april")
