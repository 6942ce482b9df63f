"""Course of conduct (PHA 1997 s.7(3)): two occasions, one person, and a link between them."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from app.chronology.summary import build_summary

from .scenario import at, ids, iid, make_incident, make_subject, sid


def test_single_incident_is_not_a_course_of_conduct() -> None:
    incident = make_incident("only", "2026-03-01", ["contacting"], channel="text_message")
    summary = build_summary([incident], [make_subject("daniel")], generated_at=at("2026-03-02"))

    (course,) = summary.course_of_conduct
    assert not course.met
    assert course.statement.text.startswith("A single incident is attributed to Daniel")
    assert course.statement.incident_ids == ids("only")
    assert not any(o.indicated for o in summary.offences)
    assert not summary.four.repeated.indicated
    assert summary.four.repeated.statements[0].text == "Not indicated by the diary."


def test_two_incidents_five_months_apart_carry_the_long_gap_caveat() -> None:
    first = make_incident("march", "2026-03-01", ["contacting"])
    second = make_incident("august", "2026-08-01", ["contacting"])
    summary = build_summary(
        [second, first], [make_subject("daniel")], generated_at=at("2026-09-01")
    )

    (course,) = summary.course_of_conduct
    assert course.met
    assert course.statement.incident_ids == ids("march", "august")
    (caveat,) = course.caveats
    assert caveat.incident_ids == ids("march", "august")
    assert caveat.text.startswith("The longest gap between these incidents is 153.0 days.")
    assert "Lau v DPP" in caveat.text
    overall = summary.gaps.overall
    assert [(g.from_incident_id, g.to_incident_id, g.days) for g in overall.long_gaps] == [
        (iid("march"), iid("august"), 153.0)
    ]
    assert "longer than 90 days" in overall.statement.text


def test_conduct_through_a_third_party_counts_as_the_subjects_own() -> None:
    direct = make_incident("direct", "2026-03-01", ["contacting"])
    proxy = make_incident(
        "proxy", "2026-03-05", ["third_party_contact"], via_third_party=True, channel="phone_call"
    )
    summary = build_summary(
        [direct, proxy], [make_subject("daniel")], generated_at=at("2026-04-01")
    )

    (course,) = summary.course_of_conduct
    assert course.met and course.subject_id == sid("daniel")
    assert course.statement.incident_ids == ids("direct", "proxy")
    assert "1 of them through another person" in course.statement.text
    assert summary.subjects[0].via_third_party_incident_ids == ids("proxy")


def test_incidents_with_no_subject_are_kept_apart_with_a_caveat() -> None:
    incidents = [
        make_incident("gift_1", "2026-03-01", ["unwanted_gifts"], subject=None),
        make_incident("gift_2", "2026-03-08", ["unwanted_gifts"], subject=None),
        make_incident("text", "2026-03-09", ["contacting"]),
    ]
    summary = build_summary(incidents, [make_subject("daniel")], generated_at=at("2026-04-01"))

    daniel, unknown = summary.course_of_conduct
    assert not daniel.met and daniel.statement.incident_ids == ids("text")
    assert unknown.subject_id is None and unknown.met
    assert unknown.statement.text.startswith("Conduct on 2 occasions")
    assert "has no subject recorded" in unknown.statement.text
    assert unknown.caveats[-1].incident_ids == ids("gift_1", "gift_2")
    assert "must be one person's" in unknown.caveats[-1].text


def test_incidents_all_on_one_day_are_flagged_as_possibly_one_occasion() -> None:
    incidents = [
        make_incident("morning", "2026-03-01", ["contacting"], time="08:00"),
        make_incident("evening", "2026-03-01", ["contacting"], time="20:00"),
    ]
    summary = build_summary(incidents, [make_subject("daniel")], generated_at=at("2026-04-01"))

    (course,) = summary.course_of_conduct
    assert course.met
    assert [c.incident_ids for c in course.caveats] == [
        ids("morning", "evening"),
        ids("morning", "evening"),
    ]
    assert "separate occasions" in course.caveats[1].text


def test_an_incident_with_two_subjects_counts_for_each() -> None:
    incidents = [
        make_incident("both", "2026-03-01", ["following"]),
        make_incident("daniel_again", "2026-03-03", ["following"]),
    ]
    incidents[0] = replace(incidents[0], subject_ids=(sid("daniel"), sid("mark")))
    subjects = [make_subject("daniel"), make_subject("mark", "acquaintance")]
    summary = build_summary(incidents, subjects, generated_at=at("2026-04-01"))

    assert [
        (c.subject_label, c.met, c.statement.incident_ids) for c in summary.course_of_conduct
    ] == [
        ("Daniel", True, ids("both", "daniel_again")),
        ("Mark", False, ids("both")),
    ]


def test_a_subject_missing_from_the_file_is_still_shown() -> None:
    ghost = uuid4()
    incident = make_incident("x", "2026-03-01", ["contacting"])
    incident = replace(incident, subject_ids=(ghost,))
    summary = build_summary([incident], [], generated_at=at("2026-04-01"))

    (subject,) = summary.subjects
    assert (subject.subject_id, subject.label) == (ghost, "Subject not on file")
    assert summary.timeline[0].subjects[0].label == "Subject not on file"


def test_reports_without_a_reference_number_are_worded_plainly() -> None:
    reported = [
        make_incident(name, day, ["contacting"], reported_to_police=True)
        for name, day in [("first", "2026-03-01"), ("second", "2026-03-08")]
    ]
    summary = build_summary(reported, [make_subject("daniel")], generated_at=at("2026-03-09"))

    text = summary.police_reports.statement.text
    assert text.startswith("2 incidents reported to the police; no crime reference number")
    assert "0 distinct" not in text
    assert "consider linking the reports" in text
