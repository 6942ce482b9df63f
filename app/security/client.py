"""Facts about the calling client that the server itself observes (never client-declared)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from app.settings import Settings


@dataclass(frozen=True)
class ClientFacts:
    address: str
    user_agent: str


def client_facts(request: Request, settings: Settings) -> ClientFacts:
    address = request.client.host if request.client else "unknown"
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        first = forwarded.split(",")[0].strip()
        address = first[:64] or address
    user_agent = request.headers.get("user-agent", "unknown")[:256]
    return ClientFacts(address=address, user_agent=user_agent)
