"""The four-month diary from `scenario.stalking_diary`: what an officer must be shown."""

from __future__ import annotations

import pytest

from app.chronology.schemas import OffenceIndicator, Summary
from app.chronology.summary import build_summary
from app.chronology.timeline import in_order

from .scenario import DANIEL, EVERYTHING, at, ids, sid, stalking_diary


@pytest.fixture(scope="module")
def summary() -> Summary:
    diary = stalking_diary()
    return build_summary(diary.all, diary.subjects, generated_at=at("2026-05-01"))


def offence(summary: Summary, code: str, subject: str | None = "daniel") -> OffenceIndicator:
    subject_id = None if subject is None else sid(subject)
    (found,) = [o for o in summary.offences if o.code == code and o.subject_id == subject_id]
    return found


def test_period_counts_and_distinct_days(summary: Summary) -> None:
    assert summary.period.first_occurred_at == at("2026-01-05")
    assert summary.period.last_occurred_at == at("2026-04-20")
    assert (summary.period.incident_count, summary.period.distinct_days) == (18, 18)
    assert summary.period.statement.text == (
        "18 incidents on 18 days from 5 January 2026 to 20 April 2026 (16 weeks)."
    )
    assert summary.period.statement.incident_ids == ids(*EVERYTHING)


def test_timeline_is_in_chronological_order(summary: Summary) -> None:
    assert [e.incident_id for e in summary.timeline] == ids(*EVERYTHING)
    knife = summary.timeline[-2]
    assert [b.code for b in knife.behaviours] == ["threat_of_violence", "weapon"]
    assert knife.severity == 5
    assert [c.code for c in knife.daily_life_changes] == ["moved_home"]
    assert knife.police_references == ["CR/3003/26"]
    assert knife.recorded_after_days == 0.0


def test_subjects_are_listed_with_their_incidents(summary: Summary) -> None:
    daniel, unknown = summary.subjects
    assert (daniel.label, daniel.relationship.code, daniel.incident_count) == (
        "Daniel",
        "ex_partner",
        17,
    )
    assert daniel.incident_ids == ids(*DANIEL)
    assert daniel.via_third_party_incident_ids == ids("sister")
    assert (unknown.subject_id, unknown.label, unknown.incident_ids) == (
        None,
        "Not identified",
        ids("gift"),
    )


def test_police_reports_are_listed_so_they_can_be_linked(summary: Summary) -> None:
    assert summary.police_reports.references == ["CR/1001/26", "CR/2002/26", "CR/3003/26"]
    assert [r.incident_id for r in summary.police_reports.reports] == ids(
        "work_1", "car", "kill", "knife"
    )
    assert "consider linking" in summary.police_reports.statement.text


def test_course_of_conduct_is_named_for_the_subject(summary: Summary) -> None:
    daniel, unknown = summary.course_of_conduct
    assert daniel.met and daniel.subject_label == "Daniel"
    assert daniel.statement.incident_ids == ids(*DANIEL)
    assert daniel.statement.text.startswith("Conduct on 17 occasions (17 days")
    assert "1 of them through another person" in daniel.statement.text
    (gap,) = daniel.caveats
    assert gap.text == "The longest gap between these incidents is 14.0 days."
    assert gap.incident_ids == ids("email_1", "work_1")
    assert not unknown.met and unknown.statement.incident_ids == ids("gift")


def test_stalking_behaviours_are_shown_with_their_s2a3_letters(summary: Summary) -> None:
    shown = [(s.provision, s.incident_ids) for s in summary.stalking_behaviours]
    assert shown == [
        ("PHA 1997 s.2A(3)(b)", ids("text_1", "text_2", "dm_1", "email_1", "call_1", "new_number")),
        ("PHA 1997 s.2A(3)(d)", ids("email_hack")),
        ("PHA 1997 s.2A(3)(e)", ids("loiter_1", "home_1")),
        ("PHA 1997 s.2A(3)(g)", ids("loiter_1")),
    ]


def test_behaviours_are_grouped(summary: Summary) -> None:
    groups = {
        g.group: [(b.code, b.incident_ids) for b in g.behaviours] for g in summary.behaviour_groups
    }
    assert list(groups) == [
        "stalking_behaviour",
        "presence",
        "contact",
        "threats",
        "violence",
        "property",
        "orders",
    ]
    assert groups["presence"] == [
        ("turning_up_at_home", ids("home_1", "home_2", "home_3")),
        ("turning_up_at_work", ids("work_1", "work_2")),
    ]
    assert groups["threats"] == [
        ("threat_of_violence", ids("knife")),
        ("threat_to_kill", ids("kill")),
    ]
    assert groups["property"] == [("damage_to_property", ids("car"))]


def test_escalation_in_frequency_and_severity(summary: Summary) -> None:
    later = [
        "sister",
        "home_1",
        "kill",
        "work_2",
        "home_2",
        "home_3",
        "knife",
        "email_hack",
    ]
    assert summary.trend.frequency.direction == "escalating"
    # 8 in the last 4 weeks (2 a week) against 10 in the 12 weeks before (0.83 a week).
    assert (summary.trend.frequency.earlier_value, summary.trend.frequency.later_value) == (0.83, 2)
    assert summary.trend.frequency.later_incident_ids == ids(*later)
    assert summary.trend.severity.direction == "escalating"
    # Cited: later incidents more severe than the earlier mean (1.33).
    assert summary.trend.severity.statement.incident_ids == ids(
        "loiter_1", "car", "sister", "home_1", "kill", "work_2", "home_2", "home_3", "knife"
    )
    assert [(f.severity, f.incident_id) for f in summary.trend.first_seen] == [
        (1, *ids("text_1")),
        (2, *ids("loiter_1")),
        (3, *ids("work_1")),
        (4, *ids("kill")),
        (5, *ids("knife")),
    ]
    assert summary.trend.method.startswith("Frequency: the incidents in the last 4 weeks")


def test_harassment_is_indicated_on_the_whole_course(summary: Summary) -> None:
    harassment = offence(summary, "harassment")
    assert harassment.indicated
    assert harassment.incident_ids == ids(*DANIEL)


def test_stalking_is_indicated_citing_the_s2a3_incidents(summary: Summary) -> None:
    stalking = offence(summary, "stalking")
    assert stalking.indicated and stalking.law == "PHA 1997 s.2A"
    assert stalking.incident_ids == ids(
        "text_1",
        "text_2",
        "dm_1",
        "email_1",
        "loiter_1",
        "call_1",
        "new_number",
        "home_1",
        "email_hack",
    )


def test_fear_of_violence_is_indicated_on_three_occasions(summary: Summary) -> None:
    s4 = offence(summary, "fear_of_violence")
    assert s4.indicated
    assert s4.incident_ids == ids("home_1", "kill", "knife")


def test_s4a_cites_fear_and_alarm_with_changes_to_daily_life(summary: Summary) -> None:
    s4a = offence(summary, "stalking_fear_or_alarm")
    assert s4a.indicated and s4a.law == "PHA 1997 s.4A"
    assert s4a.incident_ids == ids("email_1", "work_1", "call_1", "home_1", "kill", "knife")


def test_breach_of_the_non_molestation_order(summary: Summary) -> None:
    after_order = [
        "new_number",
        "sister",
        "home_1",
        "kill",
        "work_2",
        "home_2",
        "home_3",
        "knife",
        "email_hack",
    ]
    (breach,) = summary.breaches
    assert breach.order.kind.code == "non_molestation_order"
    assert breach.incident_ids == ids(*after_order)
    assert breach.date_uncertain_incident_ids == []
    indicator = offence(summary, "breach_of_order")
    assert indicator.indicated and indicator.incident_ids == ids(*after_order)


def test_no_offence_is_indicated_for_the_single_unsigned_gift(summary: Summary) -> None:
    unattributed = [o for o in summary.offences if o.subject_id is None]
    assert [o.code for o in unattributed] == [
        "harassment",
        "stalking",
        "fear_of_violence",
        "stalking_fear_or_alarm",
        "breach_of_order",
    ]
    assert not any(o.indicated for o in unattributed)


def test_risk_markers_come_first_most_serious_first(summary: Summary) -> None:
    markers = [(m.code, m.incident_ids) for m in summary.risk_markers]
    assert markers[:4] == [
        ("weapon", ids("knife")),
        ("ex_partner_threats", ids("kill", "knife")),
        ("threat_to_kill", ids("kill")),
        ("threat_of_violence", ids("knife")),
    ]
    assert [code for code, _ in markers[4:]] == [
        "breach_of_order",
        "escalation",
        "turning_up",
        "third_party_contact",
    ]
    assert dict(markers)["third_party_contact"] == ids("sister")
    assert dict(markers)["turning_up"] == ids("work_1", "home_1", "work_2", "home_2", "home_3")
    assert list(Summary.model_fields)[4] == "risk_markers"


def test_four_markers_state_their_evidence(summary: Summary) -> None:
    four = summary.four
    assert four.repeated.statements[0].text == "18 incidents on 18 days over 16 weeks."
    assert four.repeated.statements[1].text == "Daniel: 17 incidents on 17 days over 16 weeks."
    fixated = [
        (s.text.split(" (")[0].split(":")[0], s.incident_ids) for s in four.fixated.statements
    ]
    assert fixated == [
        ("Keeping watch on or track of the victim", ids("loiter_1", "home_1", "email_hack")),
        (
            "Turning up where the victim lives, works or studies",
            ids("work_1", "home_1", "work_2", "home_2", "home_3"),
        ),
        ("Contacting or using people around the victim", ids("sister")),
    ]
    unwanted = [s.incident_ids for s in four.unwanted.statements]
    assert unwanted == [
        ids(
            "new_number",
            "sister",
            "home_1",
            "kill",
            "work_2",
            "home_2",
            "home_3",
            "knife",
            "email_hack",
        ),
        ids("kill"),
        ids("call_1", "new_number", "sister", "kill", "email_hack"),
        ids("gift"),
        [i.id for i in in_order(stalking_diary().all) if i.alarm_or_distress or i.fear_of_violence],
    ]
    assert four.unwanted.statements[-1].text.startswith(
        "The victim recorded that it caused fear, alarm or distress: "
    )
    assert four.unwanted.statements[2].text == (
        "Contact continued after the victim changed phone or accounts on 14 March 2026: "
        "4 incidents since."
    )
    assert four.obsessive.indicated
    assert four.obsessive.statements[0].text.startswith("Contact through 7 different channels")
