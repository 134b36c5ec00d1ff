"""The code location validates, loads fast and keeps heavy libraries out of the import."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["torch", "transformers", "great_expectations", "matplotlib", "datasketch"]


def _env() -> dict:
    return {**os.environ, "DAGSTER_HOME": ""} | {"PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize("shards", ["1", "4"])  # SCAR_SHARDS: per source, or source x shard
def test_dagster_definitions_validate(shards):
    env = {k: v for k, v in _env().items() if k != "DAGSTER_HOME"} | {"SCAR_SHARDS": shards}
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation successful" in proc.stdout + proc.stderr


def test_definitions_import_is_light():
    code = (
        "import sys, time; t = time.perf_counter(); import definitions; "
        "print(time.perf_counter() - t); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    seconds, heavy = proc.stdout.strip().splitlines()[-2:]
    assert heavy == "[]", f"definitions imported heavy modules: {heavy}"
    print(f"definitions import took {float(seconds):.2f}s")


def test_expected_assets_and_automation_objects():
    import definitions

    keys = {key.to_user_string() for key in definitions.defs.resolve_all_asset_keys()}
    assert {"raw_pairs", "raw_quarantine"} <= keys
    assert definitions.defs.resolve_job_def("ingest_job") is not None
    assert definitions.defs.resolve_sensor_def("landing_zone_sensor") is not None
