"""Fixtures for the export tests: signing keys, the scenario diary, its evidence and a bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.crypto.signing import SigningKeys
from tests.chronology.scenario import iid
from tests.exports.builders import Diary, Evidence, evidence_for, make_bundle, scenario


@pytest.fixture(scope="session")
def keys() -> SigningKeys:
    return SigningKeys.generate()


@pytest.fixture(scope="session")
def other_keys() -> SigningKeys:
    return SigningKeys.generate()


@pytest.fixture(scope="session")
def diary() -> Diary:
    return scenario()


@pytest.fixture(scope="session")
def evidence() -> Evidence:
    return evidence_for([iid("car"), iid("car"), iid("kill")])


@pytest.fixture
def bundle(tmp_path: Path, diary: Diary, evidence: Evidence, keys: SigningKeys) -> Path:
    path = tmp_path / "bundle.zip"
    make_bundle(path, diary, evidence, keys)
    return path
