"""S-DASH: suggestions from the diary, each with its incidents; results that identify risk."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.chronology.risk import SDASH_QUESTIONS, sdash_result, suggest_sdash_answers
from app.chronology.schemas import SdashResult

from .scenario import at, ids, make_incident, make_subject, sid, stalking_diary


def test_the_eleven_questions_have_stable_ids() -> None:
    assert [q.id for q in SDASH_QUESTIONS] == [f"q{n}" for n in range(1, 12)]
    assert SDASH_QUESTIONS[0].text == "Is the victim very frightened?"
    assert "three times a week" in SDASH_QUESTIONS[3].text
    assert "drugs or alcohol" in SDASH_QUESTIONS[9].text


def test_suggestions_from_the_stalking_diary_cite_the_right_incidents() -> None:
    diary = stalking_diary()
    suggestions = suggest_sdash_answers(diary.all, diary.subjects, as_of=at("2026-05-01"))

    assert [(s.question_id, s.incident_ids) for s in suggestions] == [
        ("q1", ids("home_1", "kill", "knife")),
        ("q3", ids("car")),
        ("q4", ids("home_1", "work_2", "home_2", "home_3")),
        ("q5", ids("loiter_1", "home_1")),
        ("q6", ids("kill", "knife")),
        ("q7", ids("sister")),
        ("q9", ids("sister")),
    ]
    assert all(s.suggested_answer == "yes" for s in suggestions)
    q4 = suggestions[2]
    assert q4.reason == (
        "Turned up at home or work more than three times in a week: 2026-W15 (4 times)."
    )
    assert q4.question == SDASH_QUESTIONS[3].text


def test_three_visits_in_a_week_do_not_suggest_q4() -> None:
    visits = [
        make_incident("mon", "2026-04-06", ["turning_up_at_home"]),
        make_incident("wed", "2026-04-08", ["turning_up_at_work"]),
        make_incident("sun", "2026-04-12", ["turning_up_at_home"]),
        make_incident("next_mon", "2026-04-13", ["turning_up_at_home"]),
    ]
    suggestions = suggest_sdash_answers(visits, [make_subject("daniel")], as_of=at("2026-05-01"))
    assert "q4" not in [s.question_id for s in suggestions]


def test_violence_suggests_q8_but_a_weapon_shown_is_a_threat() -> None:
    incidents = [
        make_incident("knife", "2026-04-01", ["threat_of_violence", "weapon"]),
        make_incident("choke", "2026-04-03", ["strangulation"]),
    ]
    suggestions = {
        s.question_id: s.incident_ids
        for s in suggest_sdash_answers(incidents, [make_subject("daniel")], as_of=at("2026-05-01"))
    }
    assert suggestions == {"q6": ids("knife"), "q8": ids("choke")}


def test_incidents_after_as_of_and_other_subjects_are_left_out() -> None:
    incidents = [
        make_incident("early", "2026-04-01", ["loitering"]),
        make_incident("late", "2026-06-01", ["loitering"]),
        make_incident("other", "2026-04-02", ["loitering"], subject="mark"),
    ]
    subjects = [make_subject("daniel"), make_subject("mark", "stranger")]

    everyone = suggest_sdash_answers(incidents, subjects, as_of=at("2026-05-01"))
    assert [s.incident_ids for s in everyone] == [ids("early", "other")]
    daniel = suggest_sdash_answers(
        incidents, subjects, as_of=at("2026-05-01"), subject_id=sid("daniel")
    )
    assert [s.incident_ids for s in daniel] == [ids("early")]


def test_as_of_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="as_of must be timezone-aware"):
        suggest_sdash_answers([], [], as_of=datetime(2026, 5, 1))


def test_result_counts_yes_answers_and_flags_an_ex_partner_who_threatened_violence() -> None:
    result = sdash_result(
        {"q1": "yes", "q6": "yes", "q2": "no", "q10": "unknown"}, relationship="ex_partner"
    )

    assert isinstance(result, SdashResult)
    assert (result.yes_count, result.answered_count, result.question_count) == (2, 3, 11)
    assert result.yes_question_ids == ["q1", "q6"]
    assert [f.code for f in result.flags] == ["ex_partner_threats", "very_frightened"]
    assert any("999" in line for line in result.advice)
    assert any("National Stalking Helpline" in line for line in result.advice)
    assert any("specialist stalking" in line for line in result.advice)
    assert any("MARAC" in line for line in result.advice)
    assert "does not predict" in result.note


def test_many_yes_answers_advise_referral() -> None:
    answers = {f"q{n}": "yes" for n in (2, 3, 4, 5, 7)}
    result = sdash_result(answers)

    assert [f.code for f in result.flags] == ["many_risk_factors"]
    assert result.flags[0].text == "5 of 11 questions answered yes."
    assert any("specialist stalking" in line for line in result.advice)


def test_no_yes_answers_still_give_the_emergency_advice_and_no_flags() -> None:
    result = sdash_result({"q1": "no"})

    assert result.flags == [] and result.yes_count == 0
    assert len(result.advice) == 2 and "999" in result.advice[0]


def test_result_rejects_unknown_questions_answers_and_relationships() -> None:
    with pytest.raises(ValueError, match="unknown S-DASH question"):
        sdash_result({"q12": "yes"})
    with pytest.raises(ValueError, match="yes, no or unknown"):
        sdash_result({"q1": "maybe"})
    with pytest.raises(ValueError, match="unknown relationship"):
        sdash_result({}, relationship="rival")
