"""Offences to consider: each indicated only on its own facts, worded for the jurisdiction."""

from __future__ import annotations

from app.chronology import present
from app.chronology.model import IncidentFacts
from app.chronology.schemas import OffenceIndicator, Summary
from app.chronology.summary import build_summary

from .scenario import at, ids, make_incident, make_subject, stalking_diary


def summarise(incidents: list[IncidentFacts], jurisdiction: str = "england_wales") -> Summary:
    return build_summary(
        incidents,
        [make_subject("daniel")],
        generated_at=at("2026-12-01"),
        jurisdiction=jurisdiction,
    )


def by_code(summary: Summary) -> dict[str, OffenceIndicator]:
    return {o.code: o for o in summary.offences}


def harassment_without_stalking_behaviours() -> list[IncidentFacts]:
    return [
        make_incident("abuse", "2026-03-01", ["online_abuse"], channel="social_media"),
        make_incident("threat", "2026-03-04", ["threat_of_violence"], channel="text_message"),
        make_incident("damage", "2026-03-09", ["damage_to_property"]),
    ]


def test_harassment_without_s2a3_behaviours_does_not_suggest_stalking_and_says_why() -> None:
    offences = by_code(summarise(harassment_without_stalking_behaviours()))

    assert offences["harassment"].indicated
    assert offences["harassment"].incident_ids == ids("abuse", "threat", "damage")
    stalking = offences["stalking"]
    assert not stalking.indicated
    assert stalking.incident_ids == []
    _, why, contact = stalking.facts
    assert why.text.startswith(
        "No behaviour recorded is one of the examples of stalking behaviour in PHA 1997 s.2A(3) "
        "(recorded: online abuse, threat of violence and damage to property)."
    )
    assert "think stalking first" in why.text
    assert why.incident_ids == ids("abuse", "threat", "damage")
    assert contact.incident_ids == ids("abuse", "threat")
    assert "s.2A(3)(b)" in contact.text
    assert not offences["stalking_fear_or_alarm"].indicated


def test_fear_of_violence_on_one_occasion_does_not_indicate_s4() -> None:
    incidents = [
        make_incident("a", "2026-03-01", ["contacting"], fear_of_violence=True),
        make_incident("b", "2026-03-08", ["contacting"]),
    ]
    s4 = by_code(summarise(incidents))["fear_of_violence"]

    assert not s4.indicated
    assert s4.incident_ids == ids("a")
    assert s4.facts[-1].text == (
        "Fear of violence is recorded on only one occasion; at least two are needed."
    )


def test_fear_of_violence_on_two_occasions_indicates_s4_and_s4a() -> None:
    incidents = [
        make_incident("a", "2026-03-01", ["following"], fear_of_violence=True),
        make_incident("b", "2026-03-08", ["contacting"]),
        make_incident("c", "2026-03-12", ["following"], fear_of_violence=True),
    ]
    offences = by_code(summarise(incidents))

    assert offences["fear_of_violence"].indicated
    assert offences["fear_of_violence"].incident_ids == ids("a", "c")
    assert offences["stalking_fear_or_alarm"].indicated
    assert offences["stalking_fear_or_alarm"].incident_ids == ids("a", "c")


def test_s4a_by_serious_alarm_needs_a_recorded_change_to_daily_life() -> None:
    alarmed = [
        make_incident("a", "2026-03-01", ["loitering"], alarm_or_distress=True),
        make_incident("b", "2026-03-08", ["loitering"], alarm_or_distress=True),
    ]
    assert not by_code(summarise(alarmed))["stalking_fear_or_alarm"].indicated

    moved = [
        *alarmed,
        make_incident("c", "2026-03-20", ["contacting"], daily_life_changes=("moved_home",)),
    ]
    s4a = by_code(summarise(moved))["stalking_fear_or_alarm"]
    assert s4a.indicated
    assert s4a.incident_ids == ids("a", "b", "c")
    assert "moved home" in s4a.facts[-1].text


def test_s4a_is_not_indicated_without_stalking() -> None:
    incidents = [
        make_incident("a", "2026-03-01", ["threat_of_violence"], fear_of_violence=True),
        make_incident("b", "2026-03-08", ["threat_to_kill"], fear_of_violence=True),
    ]
    offences = by_code(summarise(incidents))

    assert offences["fear_of_violence"].indicated
    assert not offences["stalking"].indicated
    assert not offences["stalking_fear_or_alarm"].indicated
    assert offences["stalking_fear_or_alarm"].facts[0].text == "Stalking (s.2A) is not indicated."


def test_scotland_uses_the_2010_act_wording() -> None:
    diary = stalking_diary()
    summary = build_summary(
        diary.all, diary.subjects, generated_at=at("2026-05-01"), jurisdiction="scotland"
    )
    daniel = [o for o in summary.offences if o.subject_label == "Daniel"]

    assert [(o.code, o.law, o.indicated) for o in daniel] == [
        (
            "threatening_or_abusive_behaviour",
            "Criminal Justice and Licensing (Scotland) Act 2010 s.38",
            True,
        ),
        ("stalking", "Criminal Justice and Licensing (Scotland) Act 2010 s.39", True),
        ("breach_of_order", daniel[2].law, True),
    ]
    # s.38 turns on the behaviour: its incidents are the threatening ones, not every one that
    # alarmed her.
    assert daniel[0].incident_ids == ids("kill", "knife")
    assert "PHA" not in " ".join(o.law for o in summary.offences)
    assert all("PHA" not in c.law for c in summary.course_of_conduct)
    assert [s.provision for s in summary.stalking_behaviours] == [
        "CJLSA 2010 s.39(6)(b)",
        "CJLSA 2010 s.39(6)(d)",
        "CJLSA 2010 s.39(6)(f)",
        "CJLSA 2010 s.39(6)(h)",
        "CJLSA 2010 s.39(6)(i)",
    ]
    # s.39(6)(b) covers contacting any other person, so the sister incident is listed under it.
    assert summary.stalking_behaviours[0].behaviour_codes == ["contacting", "third_party_contact"]


def test_scotland_stalking_needs_the_conduct_to_cause_fear_or_alarm() -> None:
    incidents = [
        make_incident("a", "2026-03-01", ["following"]),
        make_incident("b", "2026-03-08", ["following"]),
    ]
    stalking = by_code(summarise(incidents, "scotland"))["stalking"]

    assert not stalking.indicated
    assert "ask the victim" in stalking.facts[-1].text
    assert stalking.incident_ids == ids("a", "b")


def test_northern_ireland_uses_the_2022_act_wording() -> None:
    diary = stalking_diary()
    summary = build_summary(
        diary.all, diary.subjects, generated_at=at("2026-05-01"), jurisdiction="northern_ireland"
    )
    daniel = [o for o in summary.offences if o.subject_label == "Daniel"]

    assert [(o.code, o.law, o.indicated) for o in daniel] == [
        (
            "threatening_or_abusive_behaviour",
            "Protection from Stalking Act (Northern Ireland) 2022 s.2",
            True,
        ),
        ("stalking", "Protection from Stalking Act (Northern Ireland) 2022 s.1", True),
        (
            "harassment",
            "Protection from Harassment (Northern Ireland) Order 1997 art.3 and art.4",
            True,
        ),
        ("breach_of_order", daniel[3].law, True),
    ]
    text = " ".join(
        [o.law for o in summary.offences]
        + [f.text for o in summary.offences for f in o.facts]
        + [c.law for c in summary.course_of_conduct]
    )
    assert "PHA" not in text and "CJLSA" not in text and "Scotland" not in text
    assert [s.provision for s in summary.stalking_behaviours] == [
        "PSA NI 2022 s.1(4)(b)",
        "PSA NI 2022 s.1(4)(d)",
        "PSA NI 2022 s.1(4)(f)",
        "PSA NI 2022 s.1(4)(h)",
        "PSA NI 2022 s.1(4)(i)",
    ]


def test_northern_ireland_stalking_needs_fear_alarm_or_distress() -> None:
    incidents = [
        make_incident("a", "2026-03-01", ["following"]),
        make_incident("b", "2026-03-08", ["following"]),
    ]
    stalking = by_code(summarise(incidents, "northern_ireland"))["stalking"]

    assert not stalking.indicated
    assert "substantial distress" in stalking.facts[-1].text
    assert "ask the victim" in stalking.facts[-1].text


def test_northern_ireland_conduct_before_27_april_2022_is_not_stalking_under_the_act() -> None:
    incidents = [
        make_incident("a", "2022-04-01", ["following"], alarm_or_distress=True),
        make_incident("b", "2022-04-20", ["following"], alarm_or_distress=True),
    ]
    stalking = by_code(summarise(incidents, "northern_ireland"))["stalking"]

    assert not stalking.indicated
    [before] = [f for f in stalking.facts if "Order 1997 art.4" in f.text]
    assert "Protection from Harassment (Northern Ireland) Order 1997 art.4" in before.text
    assert before.incident_ids == ids("a", "b")
    assert stalking.facts[-1].text == (
        "Not indicated: fewer than two incidents are on or after 27 April 2022, when the Act "
        "came into force."
    )
    later = [
        make_incident("c", "2022-05-01", ["following"], alarm_or_distress=True),
        make_incident("d", "2022-05-20", ["following"], alarm_or_distress=True),
    ]
    assert by_code(summarise(incidents + later, "northern_ireland"))["stalking"].indicated


def test_scotland_s38_is_not_indicated_by_fear_or_alarm_alone_and_says_what_would() -> None:
    """DOMAIN.md, Scotland: s.38 turns on the behaviour, not only on how she felt."""
    incidents = [
        make_incident("a", "2026-03-01", ["following"], alarm_or_distress=True),
        make_incident("b", "2026-03-08", ["loitering"], fear_of_violence=True),
    ]
    for jurisdiction, section in (("scotland", "s.38"), ("northern_ireland", "s.2")):
        s38 = by_code(summarise(incidents, jurisdiction))["threatening_or_abusive_behaviour"]
        assert not s38.indicated
        assert s38.incident_ids == []
        why = s38.facts[-1].text
        assert why.startswith(f"Not indicated: {section} needs behaviour that is threatening")
        assert "fear or alarm recorded alone does not show it" in why

    threatened = [*incidents, make_incident("c", "2026-03-09", ["threat_of_violence"])]
    s38 = by_code(summarise(threatened, "scotland"))["threatening_or_abusive_behaviour"]
    assert s38.indicated and s38.incident_ids == ids("c")
    assert [f.text for f in s38.facts] == [
        "Threatening or abusive behaviour recorded: 1 incident. A single act can be enough."
    ]


def test_a_scottish_or_northern_irish_summary_shows_no_pha_letter_or_section_anywhere() -> None:
    """DOMAIN.md: no PHA letters or sections in a Scottish summary, behaviour groups included."""
    diary = stalking_diary()
    for jurisdiction, own in (("scotland", "CJLSA 2010 s.39(6)"), ("northern_ireland", "PSA NI")):
        summary = build_summary(
            diary.all, diary.subjects, generated_at=at("2026-05-01"), jurisdiction=jurisdiction
        )
        text = summary.model_dump_json()
        for foreign in ("PHA", "s.2A", "s.7(", "Protection from Harassment Act", "s2a3"):
            assert foreign not in text, (jurisdiction, foreign)
        provisions = [
            b.provision for g in summary.behaviour_groups for b in g.behaviours if b.provision
        ]
        assert provisions and all(p.startswith(own) for p in provisions)


def test_ni_threats_before_the_2022_act_are_not_s2_and_harassment_is_the_1997_order() -> None:
    """DOMAIN.md, Northern Ireland: the 2022 Act (s.1 and s.2 alike) is not retrospective;
    harassment under the Protection from Harassment (NI) Order 1997 art.4 covers any date."""
    incidents = [
        make_incident("a", "2021-06-01", ["threat_of_violence"], fear_of_violence=True),
        make_incident("b", "2021-06-09", ["following"], alarm_or_distress=True),
    ]
    found = by_code(summarise(incidents, "northern_ireland"))
    s2 = found["threatening_or_abusive_behaviour"]
    assert not s2.indicated and s2.incident_ids == []
    [before] = s2.facts
    assert before.incident_ids == ids("a") and "before 27 April 2022" in before.text
    harassment = found["harassment"]
    assert harassment.indicated
    assert harassment.law == (
        "Protection from Harassment (Northern Ireland) Order 1997 art.3 and art.4"
    )
    assert "s.7" not in " ".join(f.text for f in harassment.facts)  # no PHA 1997 section
    summary = summarise(incidents, "northern_ireland")
    assert present.title(summary).startswith("Harassment")
    (why,) = present.stalking_lead(summary)
    assert "fewer than two incidents are on or after 27 April 2022" in why

    later = [*incidents, make_incident("c", "2022-05-01", ["threat_to_kill"])]
    s2 = by_code(summarise(later, "northern_ireland"))["threatening_or_abusive_behaviour"]
    assert s2.indicated and s2.incident_ids == ids("c")


def test_entering_premises_is_listed_conduct_in_scotland_and_northern_ireland() -> None:
    """DOMAIN.md: s.39(6)(e) and PSA NI s.1(4)(e) list entering premises; PHA s.2A(3) does not."""
    incidents = [
        make_incident("a", "2026-03-01", ["entering_premises"], alarm_or_distress=True),
        make_incident("b", "2026-03-08", ["entering_premises"], alarm_or_distress=True),
    ]
    for jurisdiction, cited in (
        ("scotland", "CJLSA 2010 s.39(6)(e), entering any premises: 2 incidents."),
        ("northern_ireland", "PSA NI 2022 s.1(4)(e), entering any premises: 2 incidents."),
    ):
        stalking = by_code(summarise(incidents, jurisdiction))["stalking"]
        assert stalking.indicated
        assert cited in [f.text for f in stalking.facts]
    assert not by_code(summarise(incidents, "england_wales"))["stalking"].indicated
