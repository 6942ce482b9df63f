"""The legal wording the summary uses, per jurisdiction, kept in one place so it can be reviewed.

England and Wales: Protection from Harassment Act 1997 (PHA). Scotland: Criminal Justice and
Licensing (Scotland) Act 2010 (CJLSA) s.38 (threatening or abusive behaviour) and s.39
(stalking). Northern Ireland: Protection from Stalking Act (Northern Ireland) 2022 (PSA NI) s.1
(stalking) and s.2 (threatening or abusive behaviour), in force 27 April 2022 and not
retrospective. The wording names what the law looks for; it never says the law is satisfied.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from app.chronology.codes import BEHAVIOURS, Behaviour

Jurisdiction = Literal["england_wales", "scotland", "northern_ireland"]
JURISDICTIONS: frozenset[str] = frozenset({"england_wales", "scotland", "northern_ireland"})

# PSA NI 2022 came into force on this day; conduct before it is not stalking under the Act.
NI_STALKING_IN_FORCE = date(2022, 4, 27)
NI_HARASSMENT_LAW = "Protection from Harassment (Northern Ireland) Order 1997 art.3 and art.4"
# A fact that says why an offence is not indicated starts so; the risk box quotes the rest.
NOT_INDICATED = "Not indicated: "
NI_BEFORE_THE_ACT = (
    "before 27 April 2022, when the Protection from Stalking Act (Northern Ireland) 2022 came "
    "into force (it is not retrospective): for conduct before then consider harassment under "
    "the Protection from Harassment (Northern Ireland) Order 1997 art.4."
)

DISCLAIMER = (
    "This summary lists indicators for a police officer to consider, each with the diary "
    "entries behind it. It is not legal advice, not a finding that any offence was committed, "
    "and not a prediction of what will happen. It is built only from what the victim recorded."
)

# Courts look for a link between incidents, not only a count (Lau v DPP [2000]).
LONG_GAP_DAYS = 90

LAU_CAVEAT = (
    "Courts look for a link between incidents, not just a count: in Lau v DPP (2000) two "
    "incidents four months apart were held not to be a course of conduct. Consider what links "
    "the incidents either side of this gap."
)

# The examples of stalking behaviour each jurisdiction lists. Which code falls under which
# letter is a field of the code's row (app.chronology.codes: `s2a3`, `s39`); the wording is here.
# CJLSA 2010 s.39(6) differs from PHA 1997 s.2A(3): (e) entering premises, (h) giving or leaving
# things, and it covers "any other person". PSA NI 2022 s.1(4) lists the same conduct under the
# same letters as s.39(6), so Northern Ireland shares the letters and the wording (only the
# citation differs).
_S39_LABELS: dict[str, str] = {
    "a": "following the victim or any other person",
    "b": "contacting or attempting to contact the victim or any other person",
    "c": "publishing statements or material relating to or purporting to come from a person",
    "d": "monitoring use of the internet, email or other electronic communication",
    "e": "entering any premises",
    "f": "loitering in any place",
    "g": "interfering with property in the possession of the victim or any other person",
    "h": "giving anything or leaving anything where it may be found",
    "i": "watching or spying",
}

_S2A3_LABELS: dict[str, str] = {
    "a": "following a person",
    "b": "contacting, or attempting to contact, a person by any means",
    "c": "publishing any statement or material relating to a person or purporting to be from them",
    "d": "monitoring the use by a person of the internet, email or other electronic communication",
    "e": "loitering in any place (public or private)",
    "f": "interfering with any property in the possession of a person",
    "g": "watching or spying on a person",
}


def stalking_letter(jurisdiction: Jurisdiction, behaviour: Behaviour) -> str | None:
    """The letter of the stalking-examples list this behaviour falls under, if any."""
    if jurisdiction in ("scotland", "northern_ireland"):
        return behaviour.s39
    return behaviour.s2a3


def listed_codes(jurisdiction: Jurisdiction) -> dict[str, list[str]]:
    """letter -> the behaviour codes under it in the jurisdiction's list, by letter, then in
    taxonomy order."""
    by_letter: dict[str, list[str]] = {}
    for b in BEHAVIOURS:
        letter = stalking_letter(jurisdiction, b)
        if letter is not None:
            by_letter.setdefault(letter, []).append(b.code)
    return {letter: by_letter[letter] for letter in sorted(by_letter)}


def stalking_provision(jurisdiction: Jurisdiction, letter: str) -> tuple[str, str]:
    """(citation, statutory wording) of one lettered example of stalking behaviour."""
    if jurisdiction == "scotland":
        return f"CJLSA 2010 s.39(6)({letter})", _S39_LABELS[letter]
    if jurisdiction == "northern_ireland":
        return f"PSA NI 2022 s.1(4)({letter})", _S39_LABELS[letter]
    return f"PHA 1997 s.2A(3)({letter})", _S2A3_LABELS[letter]


def stalking_list_name(jurisdiction: Jurisdiction) -> str:
    if jurisdiction == "scotland":
        return "the conduct listed in CJLSA 2010 s.39(6)"
    if jurisdiction == "northern_ireland":
        return "the conduct listed in PSA NI 2022 s.1(4)"
    return "the examples of stalking behaviour in PHA 1997 s.2A(3)"


def course_of_conduct_law(jurisdiction: Jurisdiction) -> str:
    if jurisdiction == "scotland":
        return "CJLSA 2010 s.39(6): a course of conduct involves conduct on at least two occasions"
    if jurisdiction == "northern_ireland":
        return "PSA NI 2022 s.1: a course of conduct involves conduct on at least two occasions"
    return (
        "PHA 1997 s.7(3): conduct on at least two occasions in relation to the victim; conduct "
        "arranged through another person counts as the subject's own (s.7(3A))"
    )


BREACH_LAW = {
    "england_wales": (
        "Breach of a restraining order, non-molestation order (Family Law Act 1996 s.42A) or "
        "stalking protection order (Stalking Protection Act 2019 s.8) is an offence; breach of "
        "bail conditions allows arrest. Check each incident against the order's terms."
    ),
    "scotland": (
        "Breach of an order (for example a non-harassment order or an interdict) or of bail "
        "conditions may be an offence. Check each incident against the order's terms."
    ),
    "northern_ireland": (
        "Breach of a stalking protection order or interim order (PSA NI 2022), a restraining "
        "order or a non-molestation order is an offence; breach of bail conditions allows "
        "arrest. Check each incident against the order's terms."
    ),
}

STALKING_LAW = {
    "england_wales": "PHA 1997 s.2A",
    "scotland": "Criminal Justice and Licensing (Scotland) Act 2010 s.39",
    "northern_ireland": "Protection from Stalking Act (Northern Ireland) 2022 s.1",
}
THREATENING_LAW = {
    "scotland": "Criminal Justice and Licensing (Scotland) Act 2010 s.38",
    "northern_ireland": "Protection from Stalking Act (Northern Ireland) 2022 s.2",
}
