"""A route declares the body it takes; the request middleware reads the declaration."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from app.bodies import JSON, NOT_JSON, BodyKind, BodyPolicy, body_kind, takes
from app.main import create_app
from app.settings import Settings


def test_a_new_route_declares_its_body_and_the_app_factory_does_not_list_it(
    settings: Settings,
) -> None:
    router = APIRouter()
    upload = BodyKind(json=False, limit=lambda s: s.max_upload_bytes // 2)

    @router.put("/v1/things/{thing_id}/file")
    @takes(upload)
    def put_file(thing_id: str) -> None: ...

    @router.get("/v1/things/{thing_id}")
    def get_thing(thing_id: str) -> None: ...

    outer = APIRouter()
    outer.include_router(router, prefix="/api")
    app = FastAPI()
    app.include_router(outer)
    policy = BodyPolicy(app.routes, settings)

    assert body_kind(put_file) == upload and body_kind(get_thing) == JSON
    assert not policy.takes_json("/api/v1/things/7/file")
    assert policy.limit_for("/api/v1/things/7/file") == settings.max_upload_bytes // 2
    assert policy.takes_json("/api/v1/things/7") and policy.limit_for("/api/v1/things/7") is None


def test_the_app_routes_that_take_other_bodies_say_so(settings: Settings) -> None:
    app = create_app(settings)
    policy = BodyPolicy(app.routes, settings)
    not_json = (
        "/v1/uploads",
        "/v1/uploads/5d1f",
        "/v1/evidence",
        "/v1/evidence/5d1f/content",
        "/v1/clients/5d1f/evidence/6e2a/content",
        "/v1/exports/5d1f/download",
        "/v1/me/export",
        "/s/token",
        "/s/token/bundle.zip",
        "/metrics",
    )
    assert [p for p in not_json if policy.takes_json(p)] == []
    assert policy.takes_json("/v1/incidents") and policy.takes_json("/v1/exports")
    assert policy.limit_for("/v1/uploads/5d1f") == settings.max_upload_bytes
    assert policy.limit_for("/v1/evidence") == settings.max_multipart_bytes + 1024 * 1024
    assert policy.limit_for("/v1/incidents") is None
    assert NOT_JSON.limit is None
