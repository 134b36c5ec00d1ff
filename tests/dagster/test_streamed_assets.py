"""style_features and scored_pairs stream raw_pairs batch by batch: batches smaller than the
partition (3 rows) give the same features, scores, metadata and subset as one batch.

The planted pipeline of ``tests/shards.py`` (one shard) runs once with the default
batch size (every partition is one batch, as before streaming), then features, scores and the
selection run again with 3-row batches on a fresh scores database. Scores are exactly equal (the
scorer chunks the stream as it chunked one frame). Perplexity and relatedness move by rounding
(float32 LM ~1e-7 relative, bf16 encoder ~1e-4) when the pairs sharing a model batch change, so
with one pair per model batch the features and their data versions are compared exactly too.
Several shards read the same batches and keep their own rows (``test_partitions.py``); the
sharded pipeline itself runs in ``test_shards_pipeline.py``.
"""

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from dagster import AssetSelection, DagsterInstance, materialize

from scar_dagster.dagster import partitions
from scar_dagster.dagster.partitions import partition_path, sorted_partition_keys
from scar_dagster.dagster.resources import DatabaseResource
from scar_dagster.storage import tables
from scar_dagster.storage.frame_digest import frames_digest
from tests.pipeline import materialize_group, write_landing, write_quadruples
from tests.shards import run_sharded_pipeline, shard_resources, shard_run_config

SMALL_BATCH = 3
ONE_PAIR_PER_MODEL_BATCH = {"perplexity_batch_size": 1, "relatedness_batch_size": 1}
MODEL_COLUMNS = ["perplexity", "relatedness"]


def _features(home: Path, keys: list) -> dict[str, pd.DataFrame]:
    root = home / "assets" / "style_features"
    return {str(k): pd.read_parquet(root / f"{partition_path(k)}.parquet") for k in keys}


def _meta(result, node: str) -> dict:
    (event,) = result.asset_materializations_for_node(node)
    return {k: v.value for k, v in event.metadata.items()}


def _scored_meta(results: dict, keys: list) -> dict[str, dict]:
    wanted = ("dagster/row_count", "rows_scored", "rows_reused", "score_mean", "score_precision")
    return {
        str(k): {m: _meta(results[f"scores/{k}"], "scored_pairs")[m] for m in wanted} for k in keys
    }


def _subset(home: Path) -> list[str]:
    return sorted(pd.read_parquet(home / "assets" / "selected_subset.parquet")["id"])


SUMMARY_METADATA = (
    "dagster/row_count",
    "feature_stats",
    "style_stats",
    "truncated_rows",
    "degenerate_rows",
    "degenerate_by_reason",
)


def _feature_runs(instance, defs, res, home: Path, keys: list) -> tuple[dict, dict, dict, dict]:
    """style_features of every partition with one pair per model batch: frames, data versions,
    summary metadata and the stored files' row group counts."""
    versions, metadata = {}, {}
    for key in keys:
        result = materialize(
            assets=list(defs.assets) + list(defs.asset_checks),
            selection=AssetSelection.assets("style_features"),
            partition_key=key,
            instance=instance,
            resources=res,
            run_config={"ops": {"style_features": {"config": ONE_PAIR_PER_MODEL_BATCH}}},
        )
        (event,) = result.get_asset_materialization_events()
        versions[str(key)] = event.step_materialization_data.materialization.tags.get(
            "dagster/data_version"
        )
        meta = _meta(result, "style_features")
        metadata[str(key)] = {name: meta[name] for name in SUMMARY_METADATA}
    root = home / "assets" / "style_features"
    row_groups = {
        str(k): pq.ParquetFile(root / f"{partition_path(k)}.parquet").num_row_groups for k in keys
    }
    return _features(home, keys), versions, metadata, row_groups


def _progress_lines(instance: DagsterInstance, result, step: str) -> list[str]:
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    return [m for m in messages if m.startswith(f"{step}: ") and "done in" in m]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """One pipeline with the default batch size, then features/scores/selection in 3-row
    batches on a fresh database."""
    shards = 1
    root = tmp_path_factory.mktemp("streamed")
    home, landing = root / "home", root / "landing"
    home.mkdir()
    (root / "instance").mkdir()
    write_landing(landing)
    quads = write_quadruples(root / "quads.jsonl")
    res = shard_resources(home, landing)
    config = shard_run_config(quads, top_k=8)
    with DagsterInstance.local_temp(str(root / "instance")) as instance:
        defs, whole = run_sharded_pipeline(instance, res, quads, shards, top_k=8)
        keys = sorted_partition_keys(
            defs.resolve_assets_def("style_features").partitions_def, instance
        )
        out = {
            "keys": keys,
            "whole": whole,
            "features": _features(home, keys),
            "subset": _subset(home),
            "db": res["database"],
        }
        small_db = DatabaseResource(url=f"sqlite:///{root / 'small-batches.db'}")
        small_res = {**res, "database": small_db}
        batched = {}
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(partitions, "BATCH_ROWS", SMALL_BATCH)
            for key in keys:
                batched[f"scores/{key}"] = materialize_group(
                    instance, small_res, config, ["features", "scoring"], key, defs=defs
                )
            batched["selection"] = materialize_group(
                instance, small_res, config, ["selection"], raise_on_error=False, defs=defs
            )
            batched_features, batched_subset = _features(home, keys), _subset(home)
            out["exact_batched"] = _feature_runs(instance, defs, res, home, keys)
        out["exact_whole"] = _feature_runs(instance, defs, res, home, keys)
        out.update(
            batched=batched,
            batched_features=batched_features,
            batched_subset=batched_subset,
            small_db=small_db,
            progress={
                step: [len(_progress_lines(instance, batched[f"scores/{k}"], step)) for k in keys]
                for step in ("style features", "scoring")
            },
        )
    return out


def test_every_run_succeeds_and_partitions_span_several_batches(runs):
    results = {**runs["whole"], **runs["batched"]}
    assert [name for name, result in results.items() if not result.success] == []
    assert all(len(frame) > SMALL_BATCH for frame in runs["features"].values())


def test_small_batches_give_the_same_features(runs):
    for key, frame in runs["features"].items():
        batched = runs["batched_features"][key]
        exact = [c for c in frame.columns if c not in MODEL_COLUMNS]
        pd.testing.assert_frame_equal(batched[exact], frame[exact], check_exact=True)
        # float32 LM: ~1e-7 relative; the encoder (default dtype, bf16 on this CPU): ~1e-4
        pd.testing.assert_series_equal(batched["perplexity"], frame["perplexity"], rtol=1e-5)
        pd.testing.assert_series_equal(batched["relatedness"], frame["relatedness"], atol=5e-3)


def test_with_one_pair_per_model_batch_features_and_data_versions_are_identical(runs):
    (whole, whole_versions, *_), (batched, batched_versions, *_) = (
        runs["exact_whole"],
        runs["exact_batched"],
    )
    assert batched_versions == whole_versions and None not in whole_versions.values()
    for key, frame in whole.items():
        pd.testing.assert_frame_equal(batched[key], frame, check_exact=True)


def test_features_are_written_batch_by_batch_with_the_whole_frames_version_and_summary(runs):
    """Each 3-row batch is one row group of the stored file; its data version is the stored
    frame's, and the summary metadata (stats, counts) is that of one batch."""
    whole, whole_versions, whole_meta, whole_groups = runs["exact_whole"]
    batched, batched_versions, batched_meta, batched_groups = runs["exact_batched"]
    for key, frame in batched.items():
        assert batched_groups[key] == -(-len(frame) // SMALL_BATCH) > 1
        assert whole_groups[key] == 1
        assert batched_versions[key] == frames_digest(frame.dtypes, [frame])
    assert batched_meta == whole_meta
    assert all(meta["dagster/row_count"] == len(whole[k]) for k, meta in whole_meta.items())


def test_small_batches_give_the_same_scores_metadata_and_subset(runs):
    version = _meta(runs["whole"]["ranker"], "style_ranker")["champion_version"]
    columns = ["id", "source", "ranker_version", "score", "score_precision"]
    whole = tables.read_scores(runs["db"].get_engine(), version)[columns]
    batched = tables.read_scores(runs["small_db"].get_engine(), version)[columns]
    pd.testing.assert_frame_equal(batched, whole, check_exact=True)
    keys = runs["keys"]
    assert _scored_meta(runs["batched"], keys) == _scored_meta(runs["whole"], keys)
    assert runs["batched_subset"] == runs["subset"] and len(runs["subset"]) == 8


def test_one_progress_line_spans_each_partition(runs):
    n = len(runs["keys"])
    assert runs["progress"] == {"style features": [1] * n, "scoring": [1] * n}
