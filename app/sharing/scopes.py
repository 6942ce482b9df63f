"""What each consent scope lets a caseworker see: the one table the caseworker routes follow.

A scope is about content, not only routes. `summary` is the analysis: counts, dates, behaviour
codes and labels, the statements with the incidents behind them, risk markers, trend, gaps,
offences to consider and the S-DASH answers as yes / no / unknown. It leaves out every word the
victim wrote (descriptions, places, platforms, witnesses, police references, the names of the
people involved, the terms of orders, the context behind screening answers): the chronology is
built from facts with those taken out (app.chronology.model.without_words), so no statement can
quote them, and people appear as "Person 1", "Person 2". `diary` adds the words, the incidents
and the evidence files; `assist` adds drafting incidents, notes, recording S-DASH screenings
(the console's, app.sharing.clients.screening) and preparing exports for the victim. Each
scope includes the ones before it.

`app.sharing.access` checks a request against `rank`; a test checks that every route under
/v1/clients/{client_id} asks for exactly the scope this table gives its operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.sharing.schemas import Scope


@dataclass(frozen=True)
class ScopeRule:
    rank: int
    words: bool  # the victim's own words, in the chronology and in the incidents
    evidence: bool  # evidence records and their files
    operations: frozenset[str]  # the caseworker operations it opens, with those of lower ranks


_SUMMARY = frozenset({"clients_get", "clients_chronology_get", "clients_notes_list"})
_DIARY = _SUMMARY | {
    "clients_incidents_list",
    "clients_incidents_get",
    "clients_incidents_revisions_list",
    "clients_evidence_list",
    "clients_evidence_get",
    "clients_evidence_content_get",
}
_ASSIST = _DIARY | {
    "clients_incidents_create",
    "clients_notes_create",
    "clients_exports_create",
    "clients_exports_get",
    "clients_risk_assessments_suggestions",
    "clients_risk_assessments_create",
}

SCOPES: Mapping[Scope, ScopeRule] = {
    "summary": ScopeRule(rank=1, words=False, evidence=False, operations=_SUMMARY),
    "diary": ScopeRule(rank=2, words=True, evidence=True, operations=_DIARY),
    "assist": ScopeRule(rank=3, words=True, evidence=True, operations=_ASSIST),
}


def scope_needed(operation_id: str) -> Scope | None:
    """The narrowest scope that opens an operation, or None for one no scope opens."""
    opening = [name for name, rule in SCOPES.items() if operation_id in rule.operations]
    return min(opening, key=lambda name: SCOPES[name].rank, default=None)
