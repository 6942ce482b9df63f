"""The install is the lock: exactly the locked versions, and a lock that matches pyproject.toml.

TESTING.md, "The install itself": a fresh clone installs exactly the locked versions, and a
dependency upgrade is a lock change, never a surprise.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"


def _lock_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chronicle_lock", LOCKS / "lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pins(name: str) -> dict[str, str]:
    """Locked name -> version for this interpreter (markers evaluated, as the installer does)."""
    text = (LOCKS / name).read_text()
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line[0] in "# " or line.startswith("--"):
            continue
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (spec,) = requirement.specifier
        assert spec.operator == "==", line
        found[canonicalize_name(requirement.name)] = spec.version
    return found


def test_the_installed_packages_are_exactly_the_lock() -> None:
    expected = pins("dev.txt") | pins("uv.txt") | {"chronicle": "0.1.0"}
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }
    assert installed == expected, (
        "the environment differs from requirements/dev.txt: run `make install`"
    )


def test_the_lock_was_made_from_this_pyproject() -> None:
    lock = _lock_module()
    want = lock.FINGERPRINT_PREFIX + lock.fingerprint()
    for name in ("uv.txt", "dev.txt", "runtime.txt"):
        assert want in (LOCKS / name).read_text().splitlines(), (
            f"pyproject.toml's dependencies changed without the lock: run `make relock` (or "
            f"`make lock` to upgrade) and commit requirements/ ({name} is stale)"
        )


def test_every_declared_dependency_is_satisfied_by_its_pin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["dev"],
        *project["build-system"]["requires"],
    ]
    locked = pins("dev.txt")
    for line in declared:
        requirement = Requirement(line)
        version = locked.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in the lock: run `make relock`"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement.name}=={version} does not satisfy {line!r}: run `make relock`"
        )


def test_the_runtime_lock_is_the_dev_lock_without_the_tools() -> None:
    runtime, dev = pins("runtime.txt"), pins("dev.txt")
    assert runtime.items() <= dev.items()
    assert "pytest" not in runtime and "fastapi" in runtime


def test_the_lock_names_no_index_or_download_address() -> None:
    for name in ("uv.txt", "dev.txt", "runtime.txt"):
        text = (LOCKS / name).read_text()
        assert not re.search(r"--(extra-)?index-url|--find-links|https?://|file:", text), name
        assert "--hash=sha256:" in text


def test_the_image_installs_from_the_same_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements/runtime.txt" in dockerfile
    assert "pip install --require-hashes --no-deps -r requirements/uv.txt" in dockerfile
    assert "--require-hashes requirements/runtime.txt" in dockerfile
    # The project itself adds nothing: every package came from the lock above.
    assert "--no-deps --no-build-isolation ." in dockerfile


def test_the_interpreter_is_a_supported_one() -> None:
    floor = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert floor == ">=3.11"
    assert sys.version_info >= (3, 11)
