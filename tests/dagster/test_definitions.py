"""The code location validates, loads fast and keeps heavy libraries out of the import."""

import ast
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import Definitions, build_schedule_context, instance_for_test

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["torch", "transformers", "great_expectations", "matplotlib", "datasketch"]


def _env() -> dict:
    return {**os.environ, "DAGSTER_HOME": ""} | {"PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize(
    ("shards", "executor"),  # SCAR_SHARDS: per source, or source x shard; SCAR_EXECUTOR
    [("1", "multiprocess"), ("4", "multiprocess"), ("4", "celery"), ("4", "k8s")],
)
def test_dagster_definitions_validate(shards, executor):
    if executor != "multiprocess":
        pytest.importorskip(f"dagster_{executor}", reason="the [distributed] extra is missing")
    env = {k: v for k, v in _env().items() if k != "DAGSTER_HOME"} | {"SCAR_SHARDS": shards}
    env |= {"SCAR_EXECUTOR": executor, "SCAR_K8S_GPU_NODE_SELECTOR": "gpu=l4"}
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


@pytest.mark.parametrize(
    ("job", "asset"),
    [
        ("subset_evaluation_job", "subset_evaluation"),
        ("selector_comparison_job", "selector_comparison"),
    ],
)
def test_on_demand_assets_have_a_job_of_their_own_and_no_automation(job, asset):
    """The Launchpad can run each on-demand asset alone; nothing launches it by itself."""
    from dagster import AssetKey

    import definitions

    defs = definitions.defs
    key = AssetKey(asset)
    selected = defs.resolve_job_def(job).asset_layer.selected_asset_keys
    assert {k.to_user_string() for k in selected} == {asset}
    assert defs.resolve_assets_def(asset).automation_conditions_by_key.get(key) is None
    holding = {
        j.name
        for j in defs.resolve_all_job_defs()
        if not j.name.startswith("__")  # Dagster's implicit job of every asset
        and key in j.asset_layer.selected_asset_keys
    }
    assert holding == {job}  # its own, for the Launchpad, and no other
    launched = {s.job_name for s in defs.schedules} | {
        j.name for sensor in defs.sensors if sensor.has_jobs for j in sensor.jobs
    }
    assert job not in launched  # no sensor or schedule runs it


SOURCES = ["forum", "guides"]
TICK = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _shard_facts(defs: Definitions, instance) -> dict:
    """What of a code location depends on the shard count, as plain values."""

    def keys(partitions_def) -> list[str]:
        found = partitions_def.get_partition_keys(dynamic_partitions_store=instance)
        return sorted(str(key) for key in found)

    features_job = defs.resolve_job_def("source_features_job")
    schedule = defs.resolve_schedule_def("recuration_schedule")
    with build_schedule_context(
        instance=instance, scheduled_execution_time=TICK, repository_def=defs.get_repository_def()
    ) as context:
        scheduled = schedule.evaluate_tick(context).run_requests
    checks = [c for c in defs.asset_checks if c.partitions_def is not None]
    return {
        "assets": {
            key: keys(defs.resolve_assets_def(key).partitions_def)
            for key in ("raw_pairs", "style_features", "scored_pairs")
        },
        "checks": {key.name: keys(c.partitions_def) for c in checks for key in c.check_keys},
        "source_features_job": sorted(
            key.to_user_string() for key in features_job.asset_layer.selected_asset_keys
        ),
        "job_partitions": {
            name: keys(defs.resolve_job_def(name).partitions_def)
            for name in ("source_features_job", "scoring_job", "recuration_job", "ingest_job")
        },
        "scheduled": sorted(str(request.partition_key) for request in scheduled),
        "sensors": sorted(sensor.name for sensor in defs.sensors),
    }


def _expected(shards: int) -> dict:
    per_shard = [s if shards == 1 else f"{s}|{k}" for s in SOURCES for k in range(shards)]
    features_job = ["raw_pairs", "raw_quarantine", "style_features"] if shards == 1 else []
    return {
        "assets": {"raw_pairs": SOURCES, "style_features": per_shard, "scored_pairs": per_shard},
        "checks": {
            "style_features_value_ranges": per_shard,
            "style_features_style_drift": per_shard,
        },
        "source_features_job": features_job or ["style_features"],
        "job_partitions": {
            "source_features_job": per_shard,
            "scoring_job": per_shard,
            "recuration_job": per_shard,
            "ingest_job": SOURCES,
        },
        "scheduled": per_shard,
        "sensors": [
            "default_automation_condition_sensor",
            "fine_tune_sensor",
            "landing_zone_sensor",
        ],
    }


def test_code_locations_of_one_and_three_shards_in_one_process_keep_their_own(
    monkeypatch, tmp_path
):
    """build_definitions(shards) alone decides: no object from an earlier build or from
    import time (nor $SCAR_SHARDS, set to 2 here) leaks into another shard count's."""
    from definitions import build_definitions, build_resources

    monkeypatch.setenv("SCAR_SHARDS", "2")
    resources = build_resources(str(tmp_path))
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("data_source", SOURCES)
        builds = [(n, build_definitions(n, resources=resources)) for n in (1, 3, 1, 3)]
        for shards, defs in builds:
            assert _shard_facts(defs, instance) == _expected(shards), shards
        assert _shard_facts(build_definitions(resources=resources), instance) == _expected(2)


def _settings_shards_readers(path: Path) -> list[tuple[str, str]]:
    """``(file, enclosing function or <module>)`` of every ``settings.shards`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        read = (
            isinstance(node, ast.Attribute)
            and node.attr == "shards"
            and isinstance(node.value, ast.Name)
            and node.value.id == "settings"
        ) or (
            isinstance(node, ast.ImportFrom)
            and node.module == "settings"
            and any(alias.name == "shards" for alias in node.names)
        )
        if read:
            scope = node
            while scope in parents and not isinstance(scope, ast.FunctionDef):
                scope = parents[scope]
            name = scope.name if isinstance(scope, ast.FunctionDef) else "<module>"
            found.append((path.relative_to(ROOT).as_posix(), name))
    return found


def test_the_shard_count_is_read_in_one_place():
    """``settings.shards()`` is read by ``build_definitions`` only, and no stage module holds
    jobs, sensors or schedules built at import."""
    import importlib

    from dagster import JobDefinition, ScheduleDefinition, SensorDefinition

    code = [ROOT / "definitions.py"]
    code += [
        p for folder in ("assets", "scar_dagster", "scripts") for p in (ROOT / folder).rglob("*.py")
    ]
    readers = [reader for path in sorted(code) for reader in _settings_shards_readers(path)]
    assert readers == [("definitions.py", "build_definitions")]
    modules = sorted(p.stem for p in (ROOT / "assets").glob("*.py") if p.stem != "__init__")
    built_at_import = [
        f"assets.{module}.{name}"
        for module in modules
        for name, value in vars(importlib.import_module(f"assets.{module}")).items()
        if isinstance(value, JobDefinition | SensorDefinition | ScheduleDefinition)
        or type(value).__name__ == "UnresolvedAssetJobDefinition"  # define_asset_job's result
    ]
    assert built_at_import == []
