"""Liveness, readiness and metrics for the platform that runs the service."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import text

from app import metrics
from app.blobs import BlobStoreError
from app.bodies import NOT_JSON, takes
from app.context import CtxDep
from app.errors import NotFound, ServiceUnavailable, Unauthorized, problem_responses
from app.security.actor import bearer_token

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


@router.get("/healthz", operation_id="ops_health", response_model=Health)
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz", operation_id="ops_ready", response_model=Health, responses=problem_responses(503)
)
def readyz(ctx: CtxDep) -> Health:
    """The database (and blob store) can be reached."""
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        # The same Retry-After as any request that meets the outage (app.errors).
        raise ServiceUnavailable(
            "The database cannot be reached.", headers={"Retry-After": "5"}
        ) from exc
    try:
        ctx.blobs.check()
    except BlobStoreError as exc:
        raise ServiceUnavailable(
            "The evidence store cannot be reached.", headers={"Retry-After": "5"}
        ) from exc
    return Health(status="ready")


@router.get(
    "/metrics",
    operation_id="ops_metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, **problem_responses(401, 404)},
)
@takes(NOT_JSON)
def prometheus_metrics(request: Request, ctx: CtxDep) -> Response:
    """Prometheus text format: request counts and latencies by route template. With
    METRICS_TOKEN set it needs that bearer token; without one it is off in production."""
    expected = ctx.settings.metrics_token
    if expected is None:
        if ctx.settings.environment == "production":
            raise NotFound("Not found.")
    else:
        given = (bearer_token(request) or "").encode()
        if not hmac.compare_digest(given, expected.get_secret_value().encode()):
            raise Unauthorized("The metrics token is required.")
    return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
