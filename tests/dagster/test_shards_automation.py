"""With four shards per source: automation requests every shard of a changed (or new) source and
only that source, a new champion re-scores every shard, the subset waits for all of them, the
schedule requests every shard, and SCAR_SHARDS=4 shards the code location."""

import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    MultiPartitionKey,
    build_schedule_context,
    build_sensor_context,
    evaluate_automation_conditions,
    instance_for_test,
)

import settings
from definitions import build_definitions, build_resources
from tests.pipeline import ingest_run, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 4
DEFS = build_definitions(SHARDS)
landing_zone_sensor = DEFS.resolve_sensor_def("landing_zone_sensor")
_fresh = itertools.count()


def _keys(source: str) -> set[str]:
    return {str(MultiPartitionKey({"data_source": source, "shard": str(k)})) for k in range(SHARDS)}


def _requested(result, key: str) -> set[str]:
    subset = result.get_requested_partitions(AssetKey(key))
    return {str(k) for k in (subset if isinstance(subset, set) else subset or [])}


def _materialized(instance, key: str, partition: str | None = None) -> None:
    """Record a materialization with a new data version, as a run does."""
    tags = {"dagster/data_version": f"new-{next(_fresh)}"}
    instance.report_runless_asset_event(AssetMaterialization(key, partition=partition, tags=tags))


def _everything(instance, sources, raw: bool = True) -> None:
    """Every asset materialized (``raw``: the ingest assets too) with new data versions."""
    for source in sources:
        for key in ("raw_pairs", "raw_quarantine") if raw else ():
            _materialized(instance, key, source)
        for partition in sorted(_keys(source)):
            for key in ("style_features", "scored_pairs"):
                _materialized(instance, key, partition)
    for key in ("ranker_training_data", "style_ranker", "selected_subset", "ranker_evaluation"):
        _materialized(instance, key)


def _tick(instance, cursor=None):
    return evaluate_automation_conditions(defs=DEFS, instance=instance, cursor=cursor)


def test_new_raw_data_requests_every_shard_of_its_source_only(instance):
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    _everything(instance, ["forum", "guides"])
    settled = _tick(instance, _tick(instance).cursor)
    assert settled.total_requested == 0
    _materialized(instance, "raw_pairs", "forum")
    result = _tick(instance, settled.cursor)
    assert _requested(result, "style_features") == _keys("forum")
    assert _requested(result, "scored_pairs") == _keys("forum")  # same runs, after features
    assert result.get_num_requested(AssetKey("selected_subset")) == 0  # waits for the scores
    assert result.get_num_requested(AssetKey("ranker_training_data")) == 0


def test_a_new_champion_rescores_every_shard_and_the_subset_waits_for_all(instance):
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    _everything(instance, ["forum", "guides"])
    settled = _tick(instance, _tick(instance).cursor)
    _materialized(instance, "style_ranker")
    rescoring = _tick(instance, settled.cursor)
    assert _requested(rescoring, "scored_pairs") == _keys("forum") | _keys("guides")
    assert rescoring.get_num_requested(AssetKey("style_features")) == 0
    assert rescoring.get_num_requested(AssetKey("selected_subset")) == 0
    for partition in sorted(_keys("forum") | _keys("guides")):
        _materialized(instance, "scored_pairs", partition)
    after = _tick(instance, rescoring.cursor)
    assert after.get_num_requested(AssetKey("selected_subset")) == 1


def test_a_landed_source_gets_all_its_shards_and_nothing_else_moves(instance, home, landing):
    """The landing sensor registers the source and ingests it; automation does the shards."""
    write_jsonl(landing / "forum" / "a.jsonl", [{"prompt": "forum q", "response": "an a"}])
    instance.add_dynamic_partitions("data_source", ["forum"])
    ingest_run(instance, home, landing, "forum")
    _everything(instance, ["forum"], raw=False)
    settled = _tick(instance, _tick(instance).cursor)
    assert settled.total_requested == 0

    write_jsonl(landing / "web" / "a.jsonl", [{"prompt": "web q", "response": "a web a"}])
    with build_sensor_context(
        instance=instance, resources=build_resources(str(home), str(landing))
    ) as context:
        sensed = landing_zone_sensor(context)
    assert [r.partition_key for r in sensed.run_requests] == ["web"]
    for request in sensed.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    ingest_run(instance, home, landing, "web")
    result = _tick(instance, settled.cursor)
    assert _requested(result, "style_features") == _keys("web")
    assert _requested(result, "scored_pairs") == _keys("web")


def test_the_schedule_requests_every_shard_of_every_source():
    with instance_for_test() as instance:
        _check_schedule(instance)


def _check_schedule(instance):
    schedule = DEFS.resolve_schedule_def("recuration_schedule")
    tick = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    repo = DEFS.get_repository_def()
    instance.add_dynamic_partitions("data_source", ["guides", "forum"])
    with build_schedule_context(
        instance=instance, scheduled_execution_time=tick, repository_def=repo
    ) as context:
        requests = schedule.evaluate_tick(context).run_requests
    expected = [f"{s}|{k}" for s in ("forum", "guides") for k in range(SHARDS)]
    assert [str(r.partition_key) for r in requests] == expected
    assert len({r.run_key for r in requests}) == len(expected)
    assert schedule.job_name == "recuration_job"
    job = DEFS.resolve_job_def("recuration_job")
    assert {
        str(k) for k in job.partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    } == set(expected)


def test_one_shard_keeps_the_per_source_partitions():
    one = build_definitions(1)
    for key in ("style_features", "scored_pairs", "raw_pairs"):
        assert one.resolve_assets_def(key).partitions_def.name == "data_source"
    four = DEFS.resolve_assets_def("style_features").partitions_def
    assert four.partition_dimension_names == ["data_source", "shard"]


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_shard_count_is_refused(monkeypatch, value):
    monkeypatch.setenv("SCAR_SHARDS", value)
    with pytest.raises(ValueError, match="SCAR_SHARDS must be a whole number >= 1"):
        settings.shards()


def test_the_code_location_has_source_x_shard_partitions_with_scar_shards_4():
    """(``dagster definitions validate`` with SCAR_SHARDS=4 is in test_definitions.py.)"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCAR_SHARDS": str(SHARDS)}
    code = (
        "import definitions; "
        "print(definitions.defs.resolve_assets_def('scored_pairs').partitions_def"
        ".partition_dimension_names)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert shown.stdout.strip().splitlines()[-1] == "['data_source', 'shard']", shown.stderr


def test_a_shard_is_stored_under_its_source_and_hostile_keys_are_refused(tmp_path):
    from upath import UPath

    from scar_dagster.dagster.io_managers import ParquetStoreIOManager
    from scar_dagster.storage.stores import LocalStore

    manager = ParquetStoreIOManager(LocalStore(tmp_path))
    base = UPath("assets") / "style_features"
    assert manager.make_safe_partition_path(base, "forum/3").as_posix().endswith("forum/3")
    assert manager.make_safe_partition_path(base, "forum|3").as_posix().endswith("forum/3")
    for hostile in ("../x/0", "forum/..", "/etc/0", "forum/3/../.."):
        with pytest.raises(ValueError):
            manager.make_safe_partition_path(base, hostile)
