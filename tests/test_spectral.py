"""Spectral's `spectral:oas` ruleset finds nothing (no error, no warning) in the committed spec.

The same tool and pin as `make lint-api`: npm ci from tools/spectral/'s lock into .npm-tools/
(gitignored; once, then again only when the lock changes).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
LOCKED = ROOT / "tools" / "spectral"
TOOLS = ROOT / ".npm-tools"
SPECTRAL = TOOLS / "node_modules" / ".bin" / "spectral"
ERROR, WARNING = 0, 1  # Spectral's severities: 0 error, 1 warn, 2 info, 3 hint


def _installed() -> Path:
    marker = TOOLS / ".installed"
    wanted = [LOCKED / "package.json", LOCKED / "package-lock.json"]
    fresh = marker.exists() and all(
        (TOOLS / f.name).exists() and (TOOLS / f.name).read_bytes() == f.read_bytes()
        for f in wanted
    )
    if not fresh or not SPECTRAL.exists():
        TOOLS.mkdir(exist_ok=True)
        for f in wanted:
            shutil.copyfile(f, TOOLS / f.name)
        done = subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=TOOLS, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        marker.touch()
    return SPECTRAL


def _lint(spec: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [str(_installed()), "lint", str(spec), "--ruleset", str(ROOT / ".spectral.yaml"),
         "--format", "json", "--fail-severity", "error", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return list(json.loads(done.stdout or "[]"))


def test_spectral_oas_finds_no_error_and_no_warning() -> None:
    results = _lint(ROOT / "openapi" / "openapi.json")
    found = [
        f"{r['code']} at {r['path']}: {r['message']}"
        for r in results
        if r["severity"] in (ERROR, WARNING)
    ]
    assert found == []


def test_spectral_does_report_what_it_should(tmp_path: Path) -> None:
    """The check can fail: an operation without a description or tags is a warning."""
    spec = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    operation = spec["paths"]["/v1/incidents"]["get"]
    del operation["description"], operation["tags"]
    broken = tmp_path / "openapi.json"
    broken.write_text(json.dumps(spec))
    codes = {r["code"] for r in _lint(broken) if r["severity"] == WARNING}
    assert {"operation-description", "operation-tags"} <= codes
