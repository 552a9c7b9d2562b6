"""Shared fixtures: paths to the project's corpora and the shared gold data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
SEED = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.txt"
SEED_GOLD = ROOT / "corpora" / "protocols" / "cd123-car-nk-protocol.gold.json"


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared gold data folder; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (a user's clone has no shared data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_protocol(seed_text):
    from nlp.criteria import parse_protocol

    return parse_protocol(seed_text, "cd123-car-nk-protocol")
