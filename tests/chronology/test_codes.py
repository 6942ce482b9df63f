"""One meaning per behaviour code: every code's row classifies it on every axis the analysis reads.

The analysis names no code itself; it asks the row. So a new code is one row, and these tests
fail when a row leaves an axis out, names a value no consumer knows, or when a consumer's axis
has no code feeding it.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import get_args

import pytest

from app.chronology import codes
from app.chronology.codes import (
    BEHAVIOURS,
    GROUP_CODES,
    SEVERITY_LEGEND,
    Behaviour,
    Fixated,
    RiskMarkerCode,
    SdashEvidence,
    codes_where,
)
from app.chronology.law import listed_codes, stalking_provision
from app.chronology.risk import SDASH_QUESTIONS

AXES = (
    "group",
    "severity",
    "s2a3",
    "s39",
    "fixated",
    "contact",
    "unwanted",
    "breach",
    "threatening",
    "risk_marker",
    "sdash",
)


def test_a_row_must_state_every_axis() -> None:
    fields = {f.name: f for f in dataclasses.fields(Behaviour)}
    assert set(AXES) <= set(fields)
    assert all(
        f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        for f in fields.values()
    )
    row = dataclasses.asdict(BEHAVIOURS[0])
    del row["risk_marker"]
    with pytest.raises(TypeError, match="risk_marker"):
        Behaviour(**row)


@pytest.mark.parametrize("row", BEHAVIOURS, ids=lambda b: b.code)
def test_every_code_is_classified_on_every_axis(row: Behaviour) -> None:
    assert row.group in GROUP_CODES
    assert row.severity in SEVERITY_LEGEND and row.severity >= 1
    if row.s2a3 is not None:
        stalking_provision("england_wales", row.s2a3)  # KeyError: a letter with no wording
    if row.s39 is not None:
        stalking_provision("scotland", row.s39)
        stalking_provision("northern_ireland", row.s39)
    assert row.fixated is None or row.fixated in get_args(Fixated)
    assert row.risk_marker is None or row.risk_marker in get_args(RiskMarkerCode)
    assert row.sdash is None or row.sdash in get_args(SdashEvidence)
    for flag in ("contact", "unwanted", "breach", "threatening"):
        assert isinstance(getattr(row, flag), bool), flag


def test_every_value_of_an_axis_is_fed_by_a_code_and_known_to_its_consumer() -> None:
    for fixated in get_args(Fixated):
        assert codes_where(lambda b, f=fixated: b.fixated == f), fixated
    for marker in get_args(RiskMarkerCode):
        assert codes_where(lambda b, m=marker: b.risk_marker == m), marker
    questions = {q.id for q in SDASH_QUESTIONS}
    for question in get_args(SdashEvidence):
        assert question in questions
        assert codes_where(lambda b, q=question: b.sdash == q), question
    assert set(SEVERITY_LEGEND) == {0} | {b.severity for b in BEHAVIOURS}


def test_the_letters_of_each_jurisdiction_are_those_of_its_list() -> None:
    scottish = {
        "a": ["following"],
        "b": ["contacting", "third_party_contact"],
        "c": ["publishing_material"],
        "d": ["monitoring_communications"],
        "e": ["entering_premises"],
        "f": ["loitering"],
        "g": ["interfering_with_property"],
        "h": ["unwanted_gifts"],
        "i": ["watching_or_spying"],
    }
    assert listed_codes("scotland") == listed_codes("northern_ireland") == scottish
    assert {letter: c for letter, (c,) in listed_codes("england_wales").items()} == {
        b.s2a3: b.code for b in BEHAVIOURS if b.s2a3 is not None
    }


def test_the_pattern_and_risk_sets_are_those_the_analysis_has_always_read() -> None:
    def where(axis: str, value: object) -> set[str]:
        return set(codes_where(lambda b: getattr(b, axis) == value))

    tracking = {"following", "watching_or_spying", "loitering", "monitoring_communications"}
    assert where("fixated", "tracking") == tracking
    assert where("fixated", "turning_up") == {
        "turning_up_at_home",
        "turning_up_at_work",
        "entering_premises",
    }
    assert where("fixated", "people_around") == {"third_party_contact"}
    assert where("contact", True) == {
        "contacting",
        "online_abuse",
        "unwanted_gifts",
        "third_party_contact",
        "publishing_material",
        "monitoring_communications",
    }
    assert where("unwanted", True) == {"unwanted_gifts"}
    assert where("breach", True) == {"breach_of_order"}
    assert where("threatening", True) == {"online_abuse"} | {
        b.code for b in BEHAVIOURS if b.group in ("threats", "violence", "sexual")
    }
    assert where("sdash", "q3") == {"damage_to_property", "interfering_with_property"}
    assert where("sdash", "q6") == {"threat_of_violence", "threat_to_kill"}
    assert where("sdash", "q8") == {"violence", "strangulation"}  # a weapon is a threat
    assert where("risk_marker", "turning_up") == where("fixated", "turning_up")
    for marker in ("strangulation", "weapon", "violence", "threat_to_kill", "sexual_behaviour"):
        assert where("risk_marker", marker) == {marker}


def test_the_analysis_imports_nothing_else_from_the_app() -> None:
    """app.chronology is a leaf: data in, summary out (app.summaries serves it)."""
    package = Path(codes.__file__).parent
    outside = []
    for module in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            outside += [
                f"{module.name}: {n}"
                for n in names
                if n.split(".")[0] == "app" and not n.startswith("app.chronology")
            ]
    assert outside == []
