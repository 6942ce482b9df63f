"""The fixed, versioned vocabulary a victim codes incidents with, and what each code means.

Codes are stored by the API and cited in summaries, so they never change meaning: a new code or a
changed label means a new `TAXONOMY_VERSION`, and a code is never reused for something else.

Everything the product knows about a behaviour code is a field of its row in `BEHAVIOURS`: its
label, group and severity, its letter in each jurisdiction's list of stalking examples, which
FOUR marker and risk marker it feeds, which S-DASH question it can suggest "yes" to, and whether
it is threatening or abusive or a breach of an order. The analysis (behaviours.py, risk.py,
offences.py, law.py) and the presenters read these fields and name no code themselves, so a
new code is one row here (every field is required: `tests/chronology/test_codes.py` fails
on a row left unclassified) and the regenerated API spec (`make openapi`).
This module is the GET /v1/taxonomy document too, and imports nothing from the app.

Behaviour groups follow how DOMAIN.md describes the law:
- `stalking_behaviour`: the examples in PHA 1997 s.2A(3)(a)-(g), each carrying its letter;
- `presence`: turning up where the victim lives, works or studies;
- `contact`: other unwanted contact (gifts, contact with people around the victim, online abuse);
- `threats`: threats of violence or to kill;
- `violence`: physical violence, weapons, strangulation or non-fatal choking;
- `sexual`: sexual behaviour of any kind (kept apart from violence so neither hides the other);
- `property`: damage to property (interference without damage is s.2A(3)(f));
- `orders`: breach of an order or bail conditions;
- `other`: anything the list does not name.

Severity, 1 (lowest) to 5, is DOMAIN.md's "Suggested severity ordering"; the trend uses it:
1 contacting, unwanted gifts, publishing material, monitoring communications (and online abuse,
  a form of contact; and `other`, which carries no severity information of its own);
2 loitering, watching or spying, following, third-party contact;
3 interfering with or damaging property, turning up at home or at work, entering premises,
  breach of an order;
4 threats of violence or to kill, sexual behaviour;
5 physical violence, weapons, strangulation or non-fatal choking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

TAXONOMY_VERSION = "2026-12-2"

# The classification axes. None on an axis is a decision ("feeds nothing here"), stated per row.
# FOUR "Fixated": keeping track of the victim, turning up where they live or work, or using the
# people around them.
Fixated = Literal["tracking", "turning_up", "people_around"]
# The risk markers a code raises on its own (app.chronology.risk orders and titles them; a coded
# breach raises the breach-of-order marker through `breach`, together with the orders in force).
RiskMarkerCode = Literal[
    "strangulation",
    "weapon",
    "violence",
    "threat_to_kill",
    "threat_of_violence",
    "sexual_behaviour",
    "turning_up",
    "third_party_contact",
]
# The S-DASH questions the diary can read a code as evidence for (q4 counts visits per week).
SdashEvidence = Literal["q3", "q4", "q5", "q6", "q7", "q8"]


@dataclass(frozen=True)
class Behaviour:
    """One behaviour code and every classification of it; no field has a default."""

    code: str
    label: str
    group: str
    s2a3: str | None  # the letter of PHA 1997 s.2A(3), or None if not one of its examples
    severity: int
    description: str
    # The letter of CJLSA 2010 s.39(6) (Scotland), shared by PSA NI 2022 s.1(4).
    s39: str | None
    fixated: Fixated | None
    # A contact behaviour: contact continuing after the victim changed phone is "unwanted".
    contact: bool
    # Recorded as unwanted by the coding itself (gifts the victim did not want).
    unwanted: bool
    # The victim coded a breach of an order or bail conditions.
    breach: bool
    # Threatening or abusive behaviour (CJLSA 2010 s.38, PSA NI 2022 s.2).
    threatening: bool
    risk_marker: RiskMarkerCode | None
    sdash: SdashEvidence | None


@dataclass(frozen=True)
class Term:
    """A code with its plain-English label, for channels, impacts, relationships, precision."""

    code: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class OrderKind:
    code: str
    label: str
    is_order: bool  # False for a warning: contact after it is not a breach, but it is unwanted
    description: str = ""


BEHAVIOUR_GROUPS: tuple[Term, ...] = (
    Term("stalking_behaviour", "Stalking behaviours", "The examples in PHA 1997 s.2A(3)(a)-(g)."),
    Term("presence", "Turning up", "Turning up where the victim lives, works or studies."),
    Term(
        "contact", "Other unwanted contact", "Gifts, contact with people around the victim, abuse."
    ),
    Term("threats", "Threats", "Threats of violence or to kill."),
    Term("violence", "Violence", "Physical violence, weapons, strangulation."),
    Term("sexual", "Sexual behaviour", "Sexual behaviour of any kind."),
    Term("property", "Property", "Damage to property."),
    Term("orders", "Orders", "Breach of an order or bail conditions."),
    Term("other", "Other", "Anything the list does not name."),
)

BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        code="following",
        label="Following",
        group="stalking_behaviour",
        s2a3="a",
        severity=2,
        description="Following you or someone close to you, on foot, by vehicle or otherwise.",
        s39="a",
        fixated="tracking",
        contact=False,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash=None,
    ),
    Behaviour(
        code="contacting",
        label="Contacting or trying to contact",
        group="stalking_behaviour",
        s2a3="b",
        severity=1,
        description="Contacting you or trying to, by any means: calls, messages, letters, visits.",
        s39="b",
        fixated=None,
        contact=True,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash=None,
    ),
    Behaviour(
        code="publishing_material",
        label="Publishing material about the victim",
        group="stalking_behaviour",
        s2a3="c",
        severity=1,
        description="Publishing statements or material about you, or pretending to be you.",
        s39="c",
        fixated=None,
        contact=True,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash=None,
    ),
    Behaviour(
        code="monitoring_communications",
        label="Monitoring communications",
        group="stalking_behaviour",
        s2a3="d",
        severity=1,
        description="Monitoring your use of the internet, email, phone or other communication.",
        s39="d",
        fixated="tracking",
        contact=True,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash=None,
    ),
    Behaviour(
        code="loitering",
        label="Loitering",
        group="stalking_behaviour",
        s2a3="e",
        severity=2,
        description="Hanging around a place, public or private, where you are or might be.",
        s39="f",
        fixated="tracking",
        contact=False,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash="q5",
    ),
    Behaviour(
        code="interfering_with_property",
        label="Interfering with property",
        group="stalking_behaviour",
        s2a3="f",
        severity=3,
        description="Moving, taking, opening or tampering with things in your possession.",
        s39="g",
        fixated=None,
        contact=False,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash="q3",
    ),
    Behaviour(
        code="watching_or_spying",
        label="Watching or spying",
        group="stalking_behaviour",
        s2a3="g",
        severity=2,
        description="Watching or spying on you, including by camera or tracker.",
        s39="i",
        fixated="tracking",
        contact=False,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash=None,
    ),
    Behaviour(
        code="turning_up_at_home",
        label="Turning up at home",
        group="presence",
        s2a3=None,
        severity=3,
        description="Coming to where you live, or staying outside it.",
        s39=None,
        fixated="turning_up",
        contact=False,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker="turning_up",
        sdash="q4",
    ),
    Behaviour(
        code="turning_up_at_work",
        label="Turning up at work or place of study",
        group="presence",
        s2a3=None,
        severity=3,
        description="Coming to your workplace, school, college or university.",
        s39=None,
        fixated="turning_up",
        contact=False,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker="turning_up",
        sdash="q4",
    ),
    Behaviour(
        code="entering_premises",
        label="Entering your home or other premises",
        group="presence",
        s2a3=None,  # not one of PHA 1997 s.2A(3)'s examples (they are examples only)
        severity=3,
        description="Going into, or trying to get into, your home, garden, workplace, car park "
        "or any other premises.",
        s39="e",  # CJLSA 2010 s.39(6)(e), PSA NI 2022 s.1(4)(e): entering any premises
        fixated="turning_up",
        contact=False,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker="turning_up",
        sdash="q4",
    ),
    Behaviour(
        code="unwanted_gifts",
        label="Unwanted gifts",
        group="contact",
        s2a3=None,
        severity=1,
        description="Sending or leaving gifts or items for you that you did not want.",
        s39="h",
        fixated=None,
        contact=True,
        unwanted=True,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash=None,
    ),
    Behaviour(
        code="third_party_contact",
        label="Contacting family, friends or colleagues",
        group="contact",
        s2a3=None,
        severity=2,
        description="Contacting people around you, for example to find you or to pass on messages.",
        s39="b",
        fixated="people_around",
        contact=True,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker="third_party_contact",
        sdash="q7",
    ),
    Behaviour(
        code="online_abuse",
        label="Online abuse",
        group="contact",
        s2a3=None,
        severity=1,
        description=(
            "Abusive or offensive messages or posts online. The channel is recorded separately;"
            " also code contacting or publishing material where that is what happened."
        ),
        s39=None,
        fixated=None,
        contact=True,
        unwanted=False,
        breach=False,
        threatening=True,
        risk_marker=None,
        sdash=None,
    ),
    Behaviour(
        code="threat_of_violence",
        label="Threat of violence",
        group="threats",
        s2a3=None,
        severity=4,
        description="Threatening to hurt you or someone close to you, including sexual violence.",
        s39=None,
        fixated=None,
        contact=False,
        unwanted=False,
        breach=False,
        threatening=True,
        risk_marker="threat_of_violence",
        sdash="q6",
    ),
    Behaviour(
        code="threat_to_kill",
        label="Threat to kill",
        group="threats",
        s2a3=None,
        severity=4,
        description="Threatening to kill you, someone close to you, or themselves.",
        s39=None,
        fixated=None,
        contact=False,
        unwanted=False,
        breach=False,
        threatening=True,
        risk_marker="threat_to_kill",
        sdash="q6",
    ),
    Behaviour(
        code="violence",
        label="Physical violence",
        group="violence",
        s2a3=None,
        severity=5,
        description="Hitting, pushing, grabbing or any other physical violence.",
        s39=None,
        fixated=None,
        contact=False,
        unwanted=False,
        breach=False,
        threatening=True,
        risk_marker="violence",
        sdash="q8",
    ),
    Behaviour(
        code="weapon",
        label="Weapon",
        group="violence",
        s2a3=None,
        severity=5,
        description="Using, showing or mentioning a weapon.",
        s39=None,
        fixated=None,
        contact=False,
        unwanted=False,
        breach=False,
        threatening=True,
        risk_marker="weapon",
        sdash=None,
    ),
    Behaviour(
        code="strangulation",
        label="Strangulation or choking",
        group="violence",
        s2a3=None,
        severity=5,
        description="Strangling, choking or any pressure on the neck, or smothering.",
        s39=None,
        fixated=None,
        contact=False,
        unwanted=False,
        breach=False,
        threatening=True,
        risk_marker="strangulation",
        sdash="q8",
    ),
    Behaviour(
        code="sexual_behaviour",
        label="Sexual behaviour",
        group="sexual",
        s2a3=None,
        severity=4,
        description="Sexual touching, exposure, sexual messages or images, or sexual demands.",
        s39=None,
        fixated=None,
        contact=False,
        unwanted=False,
        breach=False,
        threatening=True,
        risk_marker="sexual_behaviour",
        sdash=None,
    ),
    Behaviour(
        code="damage_to_property",
        label="Damage to property",
        group="property",
        s2a3=None,
        severity=3,
        description="Damaging or destroying your property, such as your car or home.",
        s39=None,
        fixated=None,
        contact=False,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash="q3",
    ),
    Behaviour(
        code="breach_of_order",
        label="Breach of an order",
        group="orders",
        s2a3=None,
        severity=3,
        description="Doing something an order or bail conditions forbid.",
        s39=None,
        fixated=None,
        contact=False,
        unwanted=False,
        breach=True,
        threatening=False,
        risk_marker=None,
        sdash=None,
    ),
    Behaviour(
        code="other",
        label="Other",
        group="other",
        s2a3=None,
        severity=1,
        description="Anything else; describe it in your own words.",
        s39=None,
        fixated=None,
        contact=False,
        unwanted=False,
        breach=False,
        threatening=False,
        risk_marker=None,
        sdash=None,
    ),
)

# The severity scale as a chart legend names it; 0 is an incident with no behaviour coded.
SEVERITY_LEGEND: dict[int, str] = {
    0: "no severity recorded",
    1: "1: contact, gifts, publishing, monitoring",
    2: "2: loitering, watching, following, third parties",
    3: "3: property, turning up, breach of an order",
    4: "4: threats, sexual behaviour",
    5: "5: violence, weapons, strangulation",
}

CHANNEL_TERMS: tuple[Term, ...] = (
    Term("in_person", "In person"),
    Term("phone_call", "Phone call"),
    Term("text_message", "Text message"),
    Term("email", "Email"),
    Term("social_media", "Social media", "The platform is recorded separately."),
    Term("messaging_app", "Messaging app"),
    Term("via_third_party", "Through another person"),
    Term("post", "Post or letter"),
    Term("online_other", "Other online"),
    Term("other", "Other"),
)

IMPACT_TERMS: tuple[Term, ...] = (
    Term("moved_home", "Moved home"),
    Term("changed_route", "Changed route or routine"),
    Term("changed_work_or_study", "Changed or left work or study"),
    Term("stopped_going_out", "Stopped or reduced going out"),
    Term("time_off_work", "Time off work or study"),
    Term("changed_phone_or_accounts", "Changed phone number or accounts"),
    Term("extra_security", "Added security at home or online"),
    Term("other", "Other change to daily life"),
)

# What the victim did to make it stop (DOMAIN.md, FOUR "Unwanted"). The free text is sealed and
# never read by the analysis, so this is how the diary says "I had asked him to stop": conduct
# that continues after it is unwanted.
VICTIM_ACTION_TERMS: tuple[Term, ...] = (
    Term(
        "asked_to_stop",
        "Asked them to stop",
        "The victim told them, or had someone tell them, that they want no contact.",
    ),
    Term("blocked", "Blocked them", "The victim blocked their number, email or accounts."),
)

RELATIONSHIP_TERMS: tuple[Term, ...] = (
    Term("ex_partner", "Ex-partner"),
    Term("partner", "Partner"),
    Term("family", "Family member"),
    Term("acquaintance", "Acquaintance"),
    Term("colleague", "Colleague"),
    Term("neighbour", "Neighbour"),
    Term("stranger", "Stranger"),
    Term("unknown", "Unknown"),
    Term("other", "Other"),
)

ORDER_KIND_TERMS: tuple[OrderKind, ...] = (
    OrderKind("restraining_order", "Restraining order", True),
    OrderKind("non_molestation_order", "Non-molestation order", True),
    OrderKind("stalking_protection_order", "Stalking protection order", True),
    OrderKind("interim_stalking_protection_order", "Interim stalking protection order", True),
    OrderKind("bail_conditions", "Bail conditions", True),
    OrderKind(
        "police_information_notice",
        "Police Information Notice",
        False,
        "A warning given to the suspect, not an order: contact after it is not a breach.",
    ),
    OrderKind("other", "Other order", True),
)

PRECISION_TERMS: tuple[Term, ...] = (
    Term("exact", "Exact", "The date and time are known."),
    Term("approximate", "Approximate", "The date is known; the time is approximate."),
    Term("day", "Day", "The date is known, not the time."),
    Term("month", "Month", "Only the month is known."),
)

BEHAVIOUR_CODES: frozenset[str] = frozenset(b.code for b in BEHAVIOURS)
GROUP_CODES: frozenset[str] = frozenset(g.code for g in BEHAVIOUR_GROUPS)
CHANNEL_CODES: frozenset[str] = frozenset(t.code for t in CHANNEL_TERMS)
IMPACT_CODES: frozenset[str] = frozenset(t.code for t in IMPACT_TERMS)
VICTIM_ACTION_CODES: frozenset[str] = frozenset(t.code for t in VICTIM_ACTION_TERMS)
RELATIONSHIP_CODES: frozenset[str] = frozenset(t.code for t in RELATIONSHIP_TERMS)
ORDER_KINDS: frozenset[str] = frozenset(k.code for k in ORDER_KIND_TERMS)
PRECISIONS: frozenset[str] = frozenset(t.code for t in PRECISION_TERMS)

_BEHAVIOURS_BY_CODE = {b.code: b for b in BEHAVIOURS}
_ORDER_KINDS_BY_CODE = {k.code: k for k in ORDER_KIND_TERMS}


def codes_where(test: Callable[[Behaviour], bool]) -> tuple[str, ...]:
    """The behaviour codes whose row passes `test`, in taxonomy order."""
    return tuple(b.code for b in BEHAVIOURS if test(b))


def behaviour(code: str) -> Behaviour:
    """The behaviour with this code; KeyError for a code the taxonomy does not have."""
    return _BEHAVIOURS_BY_CODE[code]


def order_kind(code: str) -> OrderKind:
    """The order kind with this code; KeyError for a code the taxonomy does not have."""
    return _ORDER_KINDS_BY_CODE[code]


def label(terms: tuple[Term, ...], code: str) -> str:
    """The label of `code` among `terms`; KeyError for a code not in them."""
    for term in terms:
        if term.code == code:
            return term.label
    raise KeyError(code)


def _terms(terms: tuple[Term, ...]) -> list[dict[str, object]]:
    return [{"code": t.code, "label": t.label, "description": t.description} for t in terms]


def taxonomy_document() -> dict[str, object]:
    """The whole taxonomy as JSON-serialisable data, for `GET /v1/taxonomy`."""
    return {
        "version": TAXONOMY_VERSION,
        "behaviour_groups": _terms(BEHAVIOUR_GROUPS),
        "behaviours": [
            {
                "code": b.code,
                "label": b.label,
                "group": b.group,
                "s2a3": b.s2a3,
                "severity": b.severity,
                "description": b.description,
            }
            for b in BEHAVIOURS
        ],
        "channels": _terms(CHANNEL_TERMS),
        "impacts": _terms(IMPACT_TERMS),
        "victim_actions": _terms(VICTIM_ACTION_TERMS),
        "relationships": _terms(RELATIONSHIP_TERMS),
        "order_kinds": [
            {"code": k.code, "label": k.label, "is_order": k.is_order, "description": k.description}
            for k in ORDER_KIND_TERMS
        ],
        "precisions": _terms(PRECISION_TERMS),
    }
