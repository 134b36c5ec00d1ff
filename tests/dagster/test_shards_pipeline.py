"""Four shards per source select the same subset as one, featurizing and scoring every pair once.

The planted pipeline runs twice on the same data (one shard, then four shards per source), each
on its own storage root, database and instance, with the offline SmolLM2 (float32) for perplexity.
"""

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, build_sensor_context

from scar_dagster.dagster.partitions import sorted_partition_keys, source_partitions
from scar_dagster.sharding import shard_of
from scar_dagster.storage import tables
from tests.pipeline import (
    materialize_group,
    write_jsonl,
    write_landing,
    write_quadruples,
)
from tests.shards import (
    SOURCES,
    run_sharded_pipeline,
    shard_resources,
    shard_run_config,
)

SHARDS = 4


def _build(root: Path, quads: Path, shards: int) -> dict:
    landing, home = root / "landing", root / "home"
    home.mkdir(parents=True)
    write_landing(landing)
    (root / "instance").mkdir()
    res = shard_resources(home, landing)
    with DagsterInstance.local_temp(str(root / "instance")) as instance:
        defs, results = run_sharded_pipeline(instance, res, quads, shards, top_k=8)
    return {
        "root": root,
        "home": home,
        "landing": landing,
        "res": res,
        "defs": defs,
        "results": results,
        "quads": quads,
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, dict]:
    """The pipeline with 1 and with 4 shards per source, on the same planted data."""
    base = tmp_path_factory.mktemp("shards")
    quads = write_quadruples(base / "quads.jsonl")
    return {n: _build(base / f"n{n}", quads, n) for n in (1, SHARDS)}


def _meta(result, node: str) -> list[dict]:
    return [
        {k: v.value for k, v in event.metadata.items()}
        for event in result.asset_materializations_for_node(node)
    ]


def _subset(run: dict) -> tuple[str, list[str]]:
    meta = _meta(run["results"]["selection"], "selected_subset")[0]
    subset = pd.read_parquet(run["home"] / "assets" / "selected_subset.parquet")
    return meta["subset_version"], sorted(subset["id"])


def _engine(run: dict):
    return run["res"]["database"].get_engine()


def test_every_run_of_both_pipelines_succeeds(runs):
    for n, run in runs.items():
        failed = [name for name, result in run["results"].items() if not result.success]
        assert failed == [], (n, failed)
    keys = [k for k in runs[SHARDS]["results"] if k.startswith("scores/")]
    assert len(keys) == len(SOURCES) * SHARDS


def test_four_shards_select_the_same_subset_as_one(runs):
    version_1, ids_1 = _subset(runs[1])
    version_4, ids_4 = _subset(runs[SHARDS])
    assert len(ids_1) == 8
    assert ids_4 == ids_1
    assert version_4 == version_1  # same ids, same ranker version, same config


def test_every_pair_is_featurized_once_in_its_own_shard(runs):
    home = runs[SHARDS]["home"]
    for source in SOURCES:
        raw = pd.read_parquet(home / "assets" / "raw_pairs" / f"{source}.parquet")
        seen = []
        for shard in range(SHARDS):
            frame = pd.read_parquet(
                home / "assets" / "style_features" / source / f"{shard}.parquet"
            )
            assert {shard_of(i, SHARDS) for i in frame["id"]} <= {shard}
            seen += frame["id"].tolist()
        assert sorted(seen) == sorted(raw["id"])  # all of them, none twice
        unsharded = pd.read_parquet(
            runs[1]["home"] / "assets" / "style_features" / f"{source}.parquet"
        )
        assert sorted(unsharded["id"]) == sorted(seen)


def test_every_pair_is_scored_once(runs):
    results = runs[SHARDS]["results"]
    version = _meta(results["ranker"], "style_ranker")[0]["champion_version"]
    scores = tables.read_scores(_engine(runs[SHARDS]), version)
    assert len(scores) == scores["id"].nunique() == 15 + 16
    scored = [_meta(r, "scored_pairs")[0] for k, r in results.items() if k.startswith("scores/")]
    assert sum(m["rows_scored"] for m in scored) == 15 + 16
    assert sum(m["rows_reused"] for m in scored) == 0
    unsharded = tables.read_scores(_engine(runs[1]), version).set_index("id")["score"]
    sharded = scores.set_index("id")["score"]
    pd.testing.assert_series_equal(sharded.sort_index(), unsharded.sort_index(), rtol=1e-5)


def test_feature_checks_run_on_every_shard(runs):
    results = runs[SHARDS]["results"]
    evaluations = [
        (key.removeprefix("scores/"), e.check_name, e.passed)
        for key, result in results.items()
        if key.startswith("scores/")
        for e in result.get_asset_check_evaluations()
    ]
    counts = Counter(name for _, name, _ in evaluations)
    assert counts == {
        "style_features_value_ranges": len(SOURCES) * SHARDS,
        "style_features_style_drift": len(SOURCES) * SHARDS,
    }
    assert all(passed for _, _, passed in evaluations)


def test_the_subset_fine_tunes_exactly_once(runs):
    run = runs[SHARDS]
    version = _subset(run)[0]
    defs = run["defs"]
    sensor = defs.resolve_sensor_def("fine_tune_sensor")
    with DagsterInstance.local_temp(str(run["root"] / "instance")) as instance:
        ticks, cursor = [], None
        for _ in range(2):
            with build_sensor_context(instance=instance, cursor=cursor, definitions=defs) as ctx:
                tick = sensor.evaluate_tick(ctx)
            ticks.append([r.run_key for r in tick.run_requests])
            cursor = tick.cursor
    gate = {
        e.check_name: e.passed for e in run["results"]["selection"].get_asset_check_evaluations()
    }
    assert gate == {"selected_subset_style_consistency": True, "selected_subset_integrity": True}
    assert ticks == [[version], []]


def test_new_rows_are_scored_once_across_the_shards(runs, tmp_path):
    """Re-ingest a source with 10 new rows, re-run its shards: only the new rows are scored."""
    run = runs[SHARDS]
    root = tmp_path / "copy"
    shutil.copytree(run["root"], root)
    res = shard_resources(root / "home", root / "landing")
    write_jsonl(
        root / "landing" / "forum" / "b.jsonl",
        [
            {"instruction": f"new question {i}", "output": f"new answer number {i} lol"}
            for i in range(10)
        ],
    )
    config = shard_run_config(run["quads"])
    scored = []
    with DagsterInstance.local_temp(str(root / "instance")) as instance:
        assert materialize_group(
            instance, res, config, ["ingest"], "forum", defs=run["defs"]
        ).success
        keys = sorted_partition_keys(source_partitions(SHARDS), instance)
        for key in (k for k in keys if k.keys_by_dimension["data_source"] == "forum"):
            result = materialize_group(
                instance, res, config, ["features", "scoring"], key, defs=run["defs"]
            )
            assert result.success
            scored.append(_meta(result, "scored_pairs")[0])
        records = instance.fetch_materializations(AssetKey("style_features"), limit=100).records
    assert sum(m["rows_scored"] for m in scored) == 10
    assert sum(m["rows_reused"] for m in scored) == 16
    assert len(records) == len(SOURCES) * SHARDS + SHARDS
