"""What body a route takes, declared on the route itself and read by the request middleware.

Most routes speak JSON: the middleware holds their bodies to `MAX_JSON_BODY_BYTES` and answers
415/406 when a client sends or asks for something else. A route that takes or returns
anything else (file bodies, HTML, downloads, metrics) says so with `@takes(...)` next to its
path, so adding a route never edits the app factory. The middleware runs before routing, so
it asks a `BodyPolicy` built once from the app's routes: a path matched by any route that
declares a body is held to that declaration (as before, one declaration covers every method
on its path).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.routing import BaseRoute

from app.settings import Settings

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_ATTRIBUTE = "__body_kind__"


@dataclass(frozen=True)
class BodyKind:
    """`json`: JSON in and out (content negotiation applies); `limit`: the route's own body
    limit when it takes more than a JSON body, from the settings."""

    json: bool
    limit: Callable[[Settings], int] | None = None


JSON = BodyKind(json=True)
NOT_JSON = BodyKind(json=False)  # HTML, downloads, metrics: no negotiation, the JSON limit


def takes(kind: BodyKind) -> Callable[[Endpoint], Endpoint]:
    """Declare the body `kind` of the route this endpoint serves."""

    def declare(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _ATTRIBUTE, kind)
        return endpoint

    return declare


def body_kind(endpoint: Callable[..., Any]) -> BodyKind:
    kind: BodyKind = getattr(endpoint, _ATTRIBUTE, JSON)
    return kind


def _endpoints(routes: Iterable[Any]) -> Iterator[tuple[Callable[..., Any], re.Pattern[str]]]:
    """Every endpoint with the pattern of its full path; an included router (FastAPI includes
    lazily) lists its routes, prefixes applied, through `effective_route_contexts`."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for one in contexts() if contexts is not None else [route]:
            endpoint = getattr(one, "endpoint", None)
            pattern = getattr(one, "path_regex", None)
            if endpoint is not None and pattern is not None:
                yield endpoint, pattern


class BodyPolicy:
    """Answers, for a request path, what the routes serving it declared."""

    def __init__(self, routes: Iterable[BaseRoute], settings: Settings) -> None:
        self._rules: list[tuple[re.Pattern[str], bool, int | None]] = []
        for endpoint, pattern in _endpoints(routes):
            kind = body_kind(endpoint)
            if kind != JSON:
                limit = kind.limit(settings) if kind.limit is not None else None
                self._rules.append((pattern, kind.json, limit))

    def _matching(self, path: str) -> list[tuple[re.Pattern[str], bool, int | None]]:
        return [rule for rule in self._rules if rule[0].match(path)]

    def limit_for(self, path: str) -> int | None:
        """The declared body limit for `path`, or None for the JSON default."""
        limits = [limit for _, _, limit in self._matching(path) if limit is not None]
        return max(limits, default=None)

    def takes_json(self, path: str) -> bool:
        return all(json for _, json, _ in self._matching(path))
