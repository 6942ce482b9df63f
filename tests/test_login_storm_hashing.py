"""Login storm: password hashing never runs on the event loop (TESTING.md, "Login storm").

Every route that hashes or verifies a password or passcode must be a plain `def` route (run in
the thread pool) and take `password_slot` (the shared cap). bench/bench_login_storm.py measures
the effect: the p99 of other requests with 16 and 32 logins in flight.
"""

from __future__ import annotations

import inspect

from fastapi.routing import APIRoute

from app.accounts.routes import router as accounts
from app.security.slots import password_slot
from app.sessions.routes import router as sessions
from app.sharing.organisation_routes import router as organisations
from app.sharing.shares.routes import router as shares
from app.viewer.routes import router as viewer

HASHING_ROUTES = {
    ("POST", "/v1/accounts"),
    ("POST", "/v1/auth/token"),
    ("POST", "/v1/invitations/accept"),
    ("POST", "/v1/me/password"),
    ("POST", "/v1/me/recovery-codes"),
    ("POST", "/v1/me/totp/disable"),
    ("DELETE", "/v1/me"),
    ("POST", "/v1/shares"),
    ("POST", "/s/{token}"),
}


def test_login_storm_hashing_routes_run_off_the_event_loop_behind_the_slot() -> None:
    seen = set()
    for route in [
        *accounts.routes,
        *sessions.routes,
        *organisations.routes,
        *shares.routes,
        *viewer.routes,
    ]:
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods:
            if (method, route.path) in HASHING_ROUTES:
                seen.add((method, route.path))
                assert not inspect.iscoroutinefunction(route.endpoint), route.path
                assert password_slot in route.dependencies, route.path
    assert seen == HASHING_ROUTES
