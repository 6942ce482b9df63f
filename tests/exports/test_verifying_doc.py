"""docs/verifying.md works when followed literally: its shell blocks, pasted in order into one
shell in a clean folder holding only bundle.zip and keys.json, succeed and print what the doc
says they print. Only the `curl` block is replaced: keys.json is written here, from the same
function that answers GET /v1/keys."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.crypto.signing import SigningKeys
from app.exports.keys_routes import list_keys
from tests.conftest import ROOT
from tests.exports.builders import Diary, Evidence, make_bundle

DOC = ROOT / "docs" / "verifying.md"
TOOLS = ("unzip", "sha256sum", "openssl", "pdfsig", "python3")
pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in TOOLS),
    reason=f"verifying.md needs {', '.join(TOOLS)}",
)


def shell_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)


def test_the_doc_has_the_blocks_an_officer_pastes() -> None:
    blocks = shell_blocks()
    assert blocks[0].startswith("curl ") and "> keys.json" in blocks[0]
    assert any("python -m app.cli verify bundle.zip --key keys.json" in b for b in blocks)
    assert any("cd bundle" in b for b in blocks)


def test_every_command_in_verifying_md_works_as_pasted(
    tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys
) -> None:
    folder = tmp_path / "clean"
    folder.mkdir()
    make_bundle(folder / "bundle.zip", diary, evidence, keys)
    (folder / "keys.json").write_text(list_keys(keys).model_dump_json())
    script = "\n".join(["set -euo pipefail", *shell_blocks()[1:]])
    # `python` is the service checkout's interpreter (its venv), as the doc says.
    bin_dir = Path(sys.executable).parent
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "LC_ALL": "C.UTF-8",
    }
    result = subprocess.run(
        ["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "FAILED" not in out and "PROBLEM" not in out
    assert re.search(r"^Files checked: \d+$", out, re.M)
    assert "FAILED open or read" not in out and ": OK" in out
    assert out.count("Signature Verified Successfully") == 2  # the bundle's key, the published one
    assert "Total document signed" in out and "Signature is Valid." in out
    assert "PDF signature valid" in out
    fingerprint = keys.public_keys()[0].fingerprint_sha256
    assert fingerprint in out  # step 3's pipeline prints the published fingerprint
    published = list_keys(keys).pdf_signing.certificate_sha256.upper()
    printed = re.search(r"Fingerprint=([0-9A-F:]+)", out)
    assert printed and printed.group(1).replace(":", "") == published
