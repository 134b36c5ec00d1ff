"""Fixtures for Dagster-level tests: a temp landing zone, storage root and instance."""

import json
import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def write_jsonl(path: Path, rows: list) -> Path:
    """Write rows (dicts, or raw strings for broken lines) as a JSONL file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def ingest_run(instance, home: Path, landing: Path, source: str) -> None:
    """Materialize raw_pairs and raw_quarantine of ``source`` in a real run that no sensor
    launched (as ``make demo``, the UI or the CLI would)."""
    from assets import ingest
    from definitions import build_resources

    result = materialize(
        [ingest.ingest_source_assets],
        partition_key=source,
        instance=instance,
        resources=build_resources(str(home), str(landing)),
    )
    assert result.success


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
