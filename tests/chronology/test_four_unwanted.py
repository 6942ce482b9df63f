"""FOUR "Unwanted" (DOMAIN.md): what the diary records that shows the conduct was unwanted.

Above all, conduct that continued after she asked them to stop or blocked them (recorded as
`victim_actions`, since the free text is sealed and never read by the analysis); and any
incident she recorded as causing fear, alarm or distress, even with no order and no block.
"""

from __future__ import annotations

from app.chronology.model import IncidentFacts
from app.chronology.schemas import Summary
from app.chronology.summary import build_summary

from .scenario import at, ids, make_incident, make_subject


def summarise(incidents: list[IncidentFacts], relationship: str = "ex_partner") -> Summary:
    return build_summary(
        incidents, [make_subject("daniel", relationship)], generated_at=at("2026-12-01")
    )


def unwanted(summary: Summary) -> list[tuple[str, list[object]]]:
    return [(s.text, list(s.incident_ids)) for s in summary.four.unwanted.statements]


def test_conduct_after_she_asked_him_to_stop_is_unwanted_with_the_incidents_since() -> None:
    summary = summarise(
        [
            make_incident("first", "2026-03-01", ["contacting"], channel="text_message"),
            make_incident(
                "asked",
                "2026-03-02",
                ["contacting"],
                channel="phone_call",
                victim_actions=("asked_to_stop",),
            ),
            make_incident("loiter", "2026-03-09", ["loitering"], channel="in_person"),
            make_incident("text", "2026-03-12", ["contacting"], channel="text_message"),
        ]
    )
    assert summary.four.unwanted.indicated
    assert unwanted(summary)[0] == (
        "Conduct attributed to Daniel continued after the victim asked them to stop on "
        "2 March 2026: 2 incidents since.",
        ids("asked", "loiter", "text"),
    )


def test_only_contact_after_she_blocked_him_counts_against_the_block() -> None:
    summary = summarise(
        [
            make_incident(
                "blocked",
                "2026-03-01",
                ["contacting"],
                channel="text_message",
                victim_actions=("blocked",),
            ),
            make_incident("seen", "2026-03-05", ["watching_or_spying"], channel="in_person"),
            make_incident("email", "2026-03-08", ["contacting"], channel="email"),
        ]
    )
    assert unwanted(summary)[0] == (
        "Contact from Daniel continued after the victim blocked them on 1 March 2026: "
        "1 incident since.",
        ids("blocked", "email"),
    )


def test_a_strangers_campaign_that_distresses_her_is_unwanted_with_no_order_or_block() -> None:
    summary = summarise(
        [
            make_incident("a", "2026-03-01", ["watching_or_spying"], alarm_or_distress=True),
            make_incident("b", "2026-03-04", ["following"]),
            make_incident("c", "2026-03-06", ["following"], fear_of_violence=True),
        ],
        relationship="stranger",
    )
    assert summary.four.unwanted.indicated
    assert unwanted(summary) == [
        (
            "The victim recorded that it caused fear, alarm or distress: 2 incidents.",
            ids("a", "c"),
        )
    ]


def test_nothing_recorded_leaves_unwanted_not_indicated() -> None:
    summary = summarise(
        [
            make_incident("a", "2026-03-01", ["watching_or_spying"]),
            make_incident("b", "2026-03-04", ["following"]),
        ]
    )
    assert not summary.four.unwanted.indicated
    assert unwanted(summary) == [("Not indicated by the diary.", [])]


def test_her_action_is_printed_on_the_incident_row() -> None:
    from app.chronology import present

    summary = summarise(
        [
            make_incident(
                "asked",
                "2026-03-02",
                ["contacting"],
                alarm_or_distress=True,
                victim_actions=("asked_to_stop", "blocked"),
            )
        ]
    )
    (entry,) = summary.timeline
    assert (
        present.effect(entry)
        == "Alarm or distress. The victim asked them to stop and blocked them."
    )


def test_contact_after_a_block_from_no_one_identified_says_so_in_words() -> None:
    """The party with no subject recorded is not a name: the statement reads as a sentence."""
    summary = summarise(
        [
            make_incident(
                "a", "2026-03-01", ["contacting"], subject=None, victim_actions=("blocked",)
            ),
            make_incident("b", "2026-03-04", ["contacting"], subject=None, channel="email"),
        ]
    )
    assert unwanted(summary) == [
        (
            "Contact from someone not identified continued after the victim blocked them on "
            "1 March 2026: 1 incident since.",
            ids("a", "b"),
        )
    ]
