"""Fixtures for Dagster-level tests: a temp landing zone, storage root and instance."""

import json
import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def write_jsonl(path: Path, rows: list) -> Path:
    """Write rows (dicts, or raw strings for broken lines) as a JSONL file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture()
def landing(tmp_path) -> Path:
    """An empty landing zone folder."""
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture()
def sample_landing(tmp_path) -> Path:
    """A copy of the bundled sample data as a landing zone."""
    path = tmp_path / "landing"
    shutil.copytree(SAMPLE, path, ignore=shutil.ignore_patterns("*.md"))
    return path


@pytest.fixture()
def home(tmp_path) -> Path:
    """A temp storage root."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture()
def instance():
    """A real ephemeral Dagster instance."""
    with DagsterInstance.ephemeral() as inst:
        yield inst
