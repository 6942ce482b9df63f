"""Every export route in one router, for app.main: the victim's jobs, the caseworker's
prepared exports, and the account's own copy (GET /v1/me/export)."""

from __future__ import annotations

from fastapi import APIRouter

from app.exports.account import routes as account_routes
from app.exports.jobs import client_routes, routes

router = APIRouter()
for part in (routes.router, client_routes.router, account_routes.router):
    router.include_router(part)
