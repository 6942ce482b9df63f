"""The house keeps its layers: no import runs from a lower layer up to a higher one, no circles.

`LAYERS` is the one statement of the order, lowest first. A module belongs to the entry with
the longest prefix of its dotted name, so a package can be placed whole and one of its
modules elsewhere (`app.integrity` is analysis; its reader of the diary `app.integrity.gather` is
not). Modules in one layer may import each other; a module may import any lower layer.
Placing a new package is one line in the table. An import that must run upward stays only
with a comment on its line or the line above saying why, and is listed in `UPWARD`.

To see what a module imports from the app: `grep -n "^from app\\|^import app" app/FILE.py`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # Leaves every package may use: configuration, errors, crypto, blob stores, shared shapes.
    (
        "leaves",
        (
            "app",
            "app.settings",
            "app.bodies",
            "app.errors",
            "app.logs",
            "app.metrics",
            "app.private_files",
            "app.pagination",
            "app.middleware",
            "app.crypto",
            "app.blobs",
            "app.schemas",
            "app.etags",
        ),
    ),
    # The app's lifetime state (settings, engine, key ring, hasher, stores, workers), built of
    # leaves only, so everything that reads it from a request sits above it.
    ("context", ("app.context",)),
    # The session dependency (which reads the context), the tables, the account-scoped query.
    ("storage", ("app.db", "app.models", "app.ownership")),
    # The caller: tokens, the current actor, the caller's data key (and its rewrapping under a
    # new master key), roles, rate limits.
    ("security", ("app.security",)),
    # Pure logic over the data: the hash chain and the course-of-conduct analysis.
    ("analysis", ("app.integrity", "app.chronology", "app.chronology.codes")),
    # Domain packages, each importing only those above it in this list (and leaves).
    ("accounts", ("app.accounts", "app.sessions", "app.audit", "app.ops")),
    ("evidence", ("app.evidence",)),
    # Group commit batches the diary's writes (incidents, subjects) and appends to the chain.
    ("diary", ("app.diary", "app.integrity.gather", "app.group_commit", "app.planned_writes")),
    ("screening", ("app.risk", "app.summaries")),
    ("sharing", ("app.sharing",)),
    ("exports", ("app.exports",)),
    # The share-link viewer: a product surface over sharing and exports (token and cookie, HTML).
    ("viewer", ("app.viewer",)),
    # The caseworker console: HTML over the caseworker API, drawing chronologies as the viewer does.
    ("console", ("app.console",)),
    # The app's wiring: it may import everything, and nothing imports it.
    ("wiring", ("app.main", "app.openapi", "app.cli", "app.demo")),
]

# (importer, imported): an upward import kept on purpose; the importer says why in a comment.
UPWARD: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The app module `name` refers to (`app.x.Name` -> `app.x`), or None outside the app."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(known: dict[str, Path]) -> Iterator[Import]:
    for importer, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                target = resolve(name, known) if name.startswith("app.") else None
                if target is not None and target != importer:
                    yield Import(importer, target, node.lineno)


def layer_of(module: str) -> int:
    best, found = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            # "app" itself names only the package's __init__, not everything under it.
            inside = "." in prefix and module.startswith(prefix + ".")
            if (module == prefix or inside) and len(prefix) > best:
                best, found = len(prefix), index
    assert found >= 0, f"{module} is in no layer: add it to LAYERS in {Path(__file__).name}"
    return found


def has_reason(path: Path, line: int) -> bool:
    """A comment on the import's line or on the line above it."""
    lines = path.read_text().splitlines()
    return any("#" in text for text in lines[max(line - 2, 0) : line])


def test_every_module_has_a_layer() -> None:
    for module in modules():
        layer_of(module)


def test_no_import_runs_up_a_layer() -> None:
    known = modules()
    upward = []
    for found in imports(known):
        if layer_of(found.importer) >= layer_of(found.imported):
            continue
        pair = (found.importer, found.imported)
        if pair in UPWARD and has_reason(known[found.importer], found.line):
            continue
        below, above = LAYERS[layer_of(found.importer)][0], LAYERS[layer_of(found.imported)][0]
        upward.append(f"{found.importer}:{found.line} ({below}) imports {found.imported} ({above})")
    assert upward == [], "imports that run up a layer:\n" + "\n".join(upward)


def test_every_listed_exception_is_still_needed() -> None:
    known = modules()
    pairs = {(found.importer, found.imported) for found in imports(known)}
    assert pairs >= UPWARD, f"no longer imported, drop from UPWARD: {UPWARD - pairs}"


def test_no_modules_import_each_other_in_a_circle() -> None:
    known = modules()
    graph: dict[str, set[str]] = {module: set() for module in known}
    for found in imports(known):
        graph[found.importer].add(found.imported)
    circles = [sorted(group) for group in strongly_connected(graph) if len(group) > 1]
    assert circles == [], f"modules that import each other: {circles}"


def package_of(module: str) -> str:
    """`app.security.actor` -> `app.security`; a top-level module is its own package."""
    return ".".join(module.split(".")[:2])


def test_the_shared_layers_import_each_other_in_no_circle_package_by_package() -> None:
    """Below the domains a package is one piece (app.context and app.security once imported
    each other through different modules): the graph of packages has no circle either."""
    known = modules()
    shared = [name for name, _ in LAYERS].index("security")
    graph: dict[str, set[str]] = {}
    for found in imports(known):
        if max(layer_of(found.importer), layer_of(found.imported)) > shared:
            continue
        importer, imported = package_of(found.importer), package_of(found.imported)
        graph.setdefault(importer, set())
        graph.setdefault(imported, set())
        if importer != imported:
            graph[importer].add(imported)
    circles = [sorted(group) for group in strongly_connected(graph) if len(group) > 1]
    assert circles == [], f"packages that import each other: {circles}"


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
    return groups


def test_the_check_sees_an_upward_import_and_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [sorted(group) for group in strongly_connected(graph) if len(group) > 1] == [
        ["a", "b", "c"]
    ]
    assert layer_of("app.diary.sync") > layer_of("app.db")
    assert layer_of("app.crypto.passwords") < layer_of("app.context") < layer_of("app.db")
    assert layer_of("app.db") < layer_of("app.security.actor")
    assert layer_of("app.summaries.routes") > layer_of("app.chronology.model")
