"""What an officer reads first (app.chronology.present): stalking first, and why not."""

from __future__ import annotations

from app.chronology import present
from app.chronology.model import without_words
from app.chronology.risk import suggest_sdash_answers
from app.chronology.summary import build_summary
from app.risk.schemas import RiskScreening

from .scenario import at, make_incident, make_subject, stalking_diary
from .test_offences import harassment_without_stalking_behaviours, summarise


def test_the_title_names_stalking_the_subject_and_the_relationship() -> None:
    diary = stalking_diary()
    summary = build_summary(diary.all, diary.subjects, generated_at=at("2026-12-01"))
    assert present.title(summary).startswith("Stalking — course of conduct by ")
    assert present.title(summary).endswith(", ex-partner")
    lead = present.stalking_lead(summary)
    assert lead and lead[0].startswith("Stalking")
    assert "is indicated for" in lead[0]


def test_offences_to_consider_list_stalking_before_harassment() -> None:
    diary = stalking_diary()
    summary = build_summary(diary.all, diary.subjects, generated_at=at("2026-12-01"))
    codes = [o.code for o in present.ordered_offences(summary) if o.indicated]
    assert codes.index("stalking") < codes.index("harassment")
    # The analysis still lists harassment first; only the presentation reorders.
    assert [o.code for o in summary.offences][:2] == ["harassment", "stalking"]


def test_harassment_only_says_why_it_is_not_stalking() -> None:
    summary = summarise(harassment_without_stalking_behaviours())
    assert present.title(summary) == "Harassment — course of conduct by Daniel, ex-partner"
    (why,) = present.stalking_lead(summary)
    assert why.startswith("Stalking is not indicated for Daniel: no behaviour recorded is one")
    assert "PHA 1997 s.2A(3)" in why


def test_a_single_incident_says_stalking_needs_two() -> None:
    summary = summarise([make_incident("once", "2026-03-01", ["following"])])
    assert present.title(summary) == present.PLAIN_TITLE
    (why,) = present.stalking_lead(summary)
    assert "fewer than two incidents" in why


def test_scotland_says_what_is_missing_in_its_own_terms() -> None:
    incidents = [
        make_incident("a", "2026-03-01", ["following"]),
        make_incident("b", "2026-03-08", ["following"]),
    ]
    summary = summarise(incidents, "scotland")
    (why,) = present.stalking_lead(summary)
    assert "no fear or alarm is recorded" in why
    assert "PHA" not in why


def test_a_person_not_named_in_the_diary_is_said_so() -> None:
    incidents = [
        make_incident("a", "2026-03-01", ["following"], subject=None),
        make_incident("b", "2026-03-08", ["watching_or_spying"], subject=None),
    ]
    summary = build_summary(incidents, [make_subject("daniel")], generated_at=at("2026-12-01"))
    assert present.title(summary).startswith("Stalking — course of conduct by a person not")


def test_runs_print_ranges_not_every_number() -> None:
    assert present.runs([]) == []
    assert present.runs([3, 1, 2, 2, 4, 7, 9, 10]) == [(1, 4), (7, 7), (9, 9), (10, 10)]
    assert present.runs(range(1, 25)) == [(1, 24)]


def test_screening_says_none_recorded_and_marks_suggestions_as_suggestions() -> None:
    diary = stalking_diary()
    suggestions = suggest_sdash_answers(diary.all, diary.subjects, as_of=at("2026-05-01"))
    assert suggestions
    lines = present.screening(RiskScreening(latest=None, history=[], suggestions=suggestions))
    assert lines[0].text == present.NO_SCREENING and lines[0].incident_ids == []
    assert len(lines) == 1 + len(suggestions)
    for line, suggestion in zip(lines[1:], suggestions, strict=True):
        assert line.text.startswith("Suggested from the diary, not an answer: ")
        assert line.incident_ids == suggestion.incident_ids
    assert [s.text for s in present.screening(None)] == [present.NO_SCREENING]


def test_the_suspect_block_names_the_relationship_and_the_order_with_its_terms() -> None:
    diary = stalking_diary()
    summary = build_summary(diary.all, diary.subjects, generated_at=at("2026-12-01"))
    texts = [s.text for s in present.suspects(summary)]
    assert texts[0].startswith("Daniel, ex-partner: ")
    order = next(t for t in texts if "served 20 March 2026" in t)
    assert order.startswith("Non-molestation order, served 20 March 2026, until 19 March 2027")
    assert "Not to contact her directly or indirectly" in order


def test_the_suspect_block_without_words_keeps_no_terms_or_names() -> None:
    diary = stalking_diary()
    incidents, subjects = without_words(diary.all, diary.subjects)
    summary = build_summary(incidents, subjects, generated_at=at("2026-12-01"))
    texts = " ".join(s.text for s in present.suspects(summary))
    assert "Daniel" not in texts and "Not to contact" not in texts
    assert "Person 1, ex-partner" in texts and "terms not shown" in texts
