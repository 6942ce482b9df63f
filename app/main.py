"""create_app(): settings, database, key ring, middleware, error handlers and routers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from app.accounts.routes import router as accounts_router
from app.audit.routes import router as audit_router
from app.blobs import open_blob_store
from app.bodies import BodyPolicy
from app.console.account_routes import router as console_account_router
from app.console.admin_routes import router as console_admin_router
from app.console.assist_routes import router as console_assist_router
from app.console.client_routes import router as console_client_router
from app.console.diary_routes import router as console_diary_router
from app.console.errors import install_console_errors
from app.console.routes import router as console_router
from app.context import AppContext
from app.crypto.keyring import load_keyring
from app.crypto.passwords import PasswordHasher
from app.crypto.signing import signing_keys_for
from app.db import make_engine, make_sessionmaker
from app.diary.incidents.routes import router as incidents_router
from app.diary.routes import router as diary_router
from app.diary.subjects.routes import router as subjects_router
from app.errors import install_error_handlers
from app.evidence.routes import router as evidence_router
from app.evidence.transfer import TRANSFER_THREADS
from app.evidence.tus import MethodOverride
from app.evidence.tus_routes import options_router as uploads_options_router
from app.evidence.tus_routes import router as uploads_router
from app.exports.account.routes import router as account_export_router
from app.exports.jobs.client_routes import router as client_exports_router
from app.exports.jobs.routes import router as exports_router
from app.exports.jobs.runner import ExportRunner
from app.exports.keys_routes import router as keys_router
from app.group_commit import GroupCommit
from app.logs import configure_logging
from app.middleware import RequestContext
from app.openapi import install_openapi
from app.ops.routes import router as ops_router
from app.private_files import private_dir
from app.risk.routes import router as risk_router
from app.sessions.routes import router as sessions_router
from app.settings import Settings, get_settings
from app.sharing.clients.data_routes import router as client_data_router
from app.sharing.clients.routes import router as clients_router
from app.sharing.clients.screening_routes import router as client_screening_router
from app.sharing.grant_routes import router as grants_router
from app.sharing.organisation_routes import router as organisations_router
from app.sharing.shares.routes import router as shares_router
from app.summaries.routes import router as chronology_router
from app.viewer.routes import router as viewer_router

# Every router, once, in the order the spec lists their paths: the one place routes are added
# (a package with several routers lists each here rather than merging them into one).
ROUTERS = (
    ops_router,
    accounts_router,
    sessions_router,
    diary_router,
    subjects_router,
    incidents_router,
    uploads_options_router,
    uploads_router,
    evidence_router,
    chronology_router,
    keys_router,
    exports_router,
    client_exports_router,
    account_export_router,
    risk_router,
    organisations_router,
    grants_router,
    clients_router,
    client_data_router,
    client_screening_router,
    shares_router,
    viewer_router,
    audit_router,
    console_router,
    console_client_router,
    console_diary_router,
    console_assist_router,
    console_admin_router,
    console_account_router,
)


def build_context(settings: Settings) -> AppContext:
    engine = make_engine(settings.effective_database_url)
    keyring = load_keyring(
        settings.effective_keyring_path,
        settings.keyring_json.get_secret_value() if settings.keyring_json else None,
        allow_generate=settings.environment != "production",
    )
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        concurrency=settings.password_hash_concurrency,
    )
    is_sqlite = settings.effective_database_url.startswith("sqlite")
    ctx = AppContext(
        settings=settings,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        keyring=keyring,
        hasher=hasher,
        blobs=open_blob_store(settings.blob_store, data_dir=settings.data_dir),
        # Loaded at start-up so that production without signing keys fails here, not later,
        # and development keys are generated once, before any worker serves a request.
        signing_keys=signing_keys_for(settings),
        transfer_limiter=anyio.CapacityLimiter(TRANSFER_THREADS),
        writer_turn=anyio.Lock() if is_sqlite else None,
    )
    ctx.start_exports(ExportRunner(ctx, ctx.signing_keys))  # its threads start with a job
    return ctx


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Everything built at start-up (routes, models, schemas: most of the heap) lives as long
    # as the process; frozen, the collector no longer walks it on every full collection,
    # which under load showed up as pauses of several ms.
    gc.freeze()
    yield
    # A running export finishes (or its lease lapses elsewhere) before the pool is closed.
    ctx: AppContext = app.state.ctx
    await anyio.to_thread.run_sync(ctx.exports.close)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    private_dir(settings.data_dir, tighten=True)
    app = FastAPI(
        title="Chronicle",
        version="1.0.0",
        summary="Encrypted, tamper-evident incident diary and course-of-conduct summaries.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    ctx = app.state.ctx = build_context(settings)
    # Group commit reads itself from app.state (app.group_commit, not moved yet).
    app.state.group_commit = GroupCommit(
        ctx,
        writer_turn=ctx.writer_turn,
        window_ms=settings.group_commit_window_ms,
        max_batch=settings.group_commit_max_batch,
    )
    install_error_handlers(app)
    install_console_errors(app)
    for router in ROUTERS:
        app.include_router(router)
    # The methods each path offers, for a 405's Allow (app.errors): FastAPI keeps an included
    # router whole in app.routes, so the table is made here from the routers themselves.
    app.state.route_methods = [
        (route.path_regex, set(route.methods or ()))
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    install_openapi(app)
    bodies = BodyPolicy(app.routes, settings)  # each route declares its body (app.bodies)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Tus-Resumable",
                "Upload-Length",
                "Upload-Offset",
                "Upload-Metadata",
                "Upload-Checksum",
                "X-HTTP-Method-Override",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "Upload-Offset",
                "Upload-Length",
                "Upload-Expires",
                "Tus-Resumable",
                "Tus-Version",
                "Tus-Extension",
                "Tus-Max-Size",
                "Tus-Checksum-Algorithm",
                "X-Request-ID",
            ],
        )
    app.add_middleware(MethodOverride)
    app.add_middleware(
        RequestContext,
        max_body=settings.max_json_body_bytes,
        body_limit_for=bodies.limit_for,
        takes_json=bodies.takes_json,
        hsts=settings.https_only,
        problem_type_base=settings.effective_problem_type_base,
    )
    return app
