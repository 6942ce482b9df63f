"""Facts about the calling client that the server itself observes (never client-declared)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.context import CtxDep
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


async def _caller_facts(request: Request, ctx: CtxDep) -> ClientFacts:
    # async: only headers are read, so it runs on the event loop, not a pool thread
    return client_facts(request, ctx.settings)


# What a route records of its caller (the audit trail, security events, rate limits).
ClientFactsDep = Annotated[ClientFacts, Depends(_caller_facts)]
