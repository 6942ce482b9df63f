"""What an export is made of besides the summary and its exhibits: the chain head.

Exhibits (the numbered evidence files) are evidence's own: app.evidence.exhibits.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChainHead:
    length: int  # number of events
    hash: str  # the last event's hash; 64 zeros for an empty chain
