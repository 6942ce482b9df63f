"""Build the course-of-conduct summary: the one entry point the diary and exports call.

Pure and deterministic: the same incidents and subjects, in any order, give the same summary,
and every statement in it cites the incidents that support it. See DOMAIN.md for the law.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.chronology.behaviours import behaviour_groups, four_markers, stalking_behaviours
from app.chronology.codes import TAXONOMY_VERSION
from app.chronology.frequency import frequency, gap_analysis, trend
from app.chronology.law import DISCLAIMER, JURISDICTIONS, Jurisdiction
from app.chronology.model import IncidentFacts, SubjectFacts, require_aware
from app.chronology.offences import course_of_conduct, offences
from app.chronology.orders import breaches
from app.chronology.risk import risk_markers
from app.chronology.schemas import Gaps, SubjectGaps, Summary
from app.chronology.timeline import (
    in_order,
    involvement,
    parties,
    period,
    police_reporting,
    timeline,
)


def build_summary(
    incidents: Sequence[IncidentFacts],
    subjects: Sequence[SubjectFacts],
    *,
    generated_at: datetime,
    jurisdiction: str = "england_wales",
) -> Summary:
    """The summary of a diary; ValueError on naive times, duplicate ids, unknown jurisdiction."""
    generated_at = require_aware("generated_at", generated_at)
    law = _jurisdiction(jurisdiction)
    if len({s.id for s in subjects}) != len(subjects):
        raise ValueError("duplicate subject id")
    ordered = in_order(incidents)
    everyone = parties(ordered, subjects)
    courses = [course_of_conduct(p, law) for p in everyone]
    found_breaches = breaches(everyone)
    found_trend = trend(ordered)
    return Summary(
        taxonomy_version=TAXONOMY_VERSION,
        jurisdiction=law,
        generated_at=generated_at,
        disclaimer=DISCLAIMER,
        risk_markers=risk_markers(ordered, everyone, found_trend, found_breaches),
        period=period(ordered),
        subjects=involvement(everyone),
        police_reports=police_reporting(ordered),
        course_of_conduct=courses,
        offences=[
            indicator
            for party, course in zip(everyone, courses, strict=True)
            for indicator in offences(party, course, found_breaches, law)
        ],
        breaches=found_breaches,
        four=four_markers(ordered, everyone),
        stalking_behaviours=stalking_behaviours(ordered, law),
        behaviour_groups=behaviour_groups(ordered, law),
        trend=found_trend,
        frequency=frequency(ordered),
        gaps=Gaps(
            overall=gap_analysis(ordered),
            by_subject=[
                SubjectGaps(subject_id=p.subject_id, label=p.label, gaps=gap_analysis(p.incidents))
                for p in everyone
            ],
        ),
        timeline=timeline(ordered, {s.id: s for s in subjects}),
    )


def _jurisdiction(value: str) -> Jurisdiction:
    if value == "england_wales":
        return "england_wales"
    if value == "scotland":
        return "scotland"
    if value == "northern_ireland":
        return "northern_ireland"
    raise ValueError(f"unknown jurisdiction; expected one of {sorted(JURISDICTIONS)}")
