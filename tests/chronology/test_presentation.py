"""The presentation model (app.chronology.presentation): what the PDF and the viewer both render."""

from __future__ import annotations

import pytest

from app.chronology.presentation import (
    NO_STALKING_BEHAVIOUR,
    Cite,
    Presentation,
    build_presentation,
)
from app.chronology.schemas import Summary
from app.chronology.summary import build_summary

from .scenario import at, make_incident, stalking_diary
from .test_offences import harassment_without_stalking_behaviours, summarise


def _stalking() -> tuple[Summary, Presentation]:
    diary = stalking_diary()
    summary = build_summary(diary.all, diary.subjects, generated_at=at("2026-05-01"))
    return summary, build_presentation(summary)


def test_sections_come_in_reading_order_risk_first() -> None:
    _, model = _stalking()
    ids = [s.id for s in model.sections]
    assert ids[:4] == ["risk", "suspects", "screening", "headline"]
    assert ids.index("conduct") < ids.index("offences") < ids.index("four")
    assert model.section("risk").lines[0].kind == "lead"
    assert model.section("risk").lines[0].text.startswith("Stalking")


def test_each_summary_sentence_appears_once() -> None:
    summary, model = _stalking()
    statements = model.statements()
    course = summary.course_of_conduct[0].statement.text
    assert sum(s.count(course) for s in statements) == 1
    gaps = summary.gaps.overall.statement.text
    assert sum(s.count(gaps) for s in statements) == 1
    for breach in summary.breaches:
        assert sum(s.count(breach.statement.text) for s in statements) == 1
    assert not any("chain of" in s for s in statements)


def test_citations_are_ranges_with_an_en_dash() -> None:
    assert Cite(((1, 24),)).text == "incidents #1\N{EN DASH}#24"
    assert Cite(((3, 3),)).text == "incident #3"
    assert Cite(((3, 3), (5, 5))).text == "incidents #3, #5"
    assert Cite((), ("1a2b3c4d",)).text == "incident id 1a2b3c4d"
    summary, model = _stalking()
    period = model.section("headline").lines[0]
    assert period.cite == Cite(((1, len(summary.timeline)),))


@pytest.mark.parametrize(
    ("jurisdiction", "named"),
    [
        ("england_wales", "PHA 1997 s.2A(3)"),
        ("scotland", "CJLSA 2010 s.39(6)"),
        ("northern_ireland", "PSA NI 2022 s.1(4)"),
    ],
)
def test_the_stalking_behaviour_heading_follows_the_jurisdiction(
    jurisdiction: str, named: str
) -> None:
    incidents = [
        make_incident("a", "2026-05-01", ["following"]),
        make_incident("b", "2026-05-08", ["following"]),
    ]
    model = build_presentation(summarise(incidents, jurisdiction))
    section = model.section("behaviours")
    assert named in section.title
    others = {"PHA 1997", "CJLSA 2010", "PSA NI 2022"} - {named.rsplit(" s.", 1)[0]}
    assert not any(other in section.title for other in others)


def test_no_listed_behaviour_says_none_recorded_once() -> None:
    model = build_presentation(summarise(harassment_without_stalking_behaviours()))
    (line,) = model.section("behaviours").lines
    assert line.text == NO_STALKING_BEHAVIOUR


def test_incident_rows_carry_uk_local_times_and_short_ids() -> None:
    summer = make_incident("summer", "2026-07-06", ["contacting"], time="21:10")
    model = build_presentation(summarise([summer]))
    (row,) = model.incidents
    assert row.when.startswith("6 July 2026, 22:10 BST")
    assert row.short_id == str(summer.id)[:8]
    assert row.evidence == "None" and row.exhibits == ()
