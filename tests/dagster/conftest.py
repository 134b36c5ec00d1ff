"""Fixtures for Dagster-level tests: a temp landing zone, storage root and instance."""

import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


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
