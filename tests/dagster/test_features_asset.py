"""style_features materializes per source with the real default models and its checks."""

import pandas as pd
from dagster import materialize

from assets import features, ingest
from definitions import build_resources
from tests.pipeline import write_jsonl

ONE_SHARD = 1  # per-source partitions: the files are <source>.parquet

ROWS = [
    {"instruction": "What is the capital of France?", "output": "Paris is the capital."},
    {"instruction": "List two fruits.", "output": "- apple\n- pear"},
    {"instruction": "Say hi in code.", "output": "```python\nprint('hi')\n```"},
    {"instruction": "Emoji only?", "output": "🙂🙂🙂"},
]


def test_style_features_with_real_models(instance, home, landing):
    write_jsonl(landing / "mixed" / "a.jsonl", ROWS)
    instance.add_dynamic_partitions("data_source", ["mixed"])
    result = materialize(
        [
            ingest.ingest_source_assets,
            features.style_features_asset(ONE_SHARD),
            *features.style_features_checks(ONE_SHARD),
        ],
        partition_key="mixed",
        instance=instance,
        resources=build_resources(str(home), str(landing)),
    )
    assert result.success
    frame = pd.read_parquet(home / "assets" / "style_features" / "mixed.parquet")
    assert len(frame) == 4
    valid = frame[frame["degenerate_reason"].isna()]
    assert len(valid) == 3
    assert (valid["perplexity"] > 1).all() and valid["relatedness"].between(-1, 1).all()
    assert frame.loc[frame["degenerate_reason"].notna(), "ttr"].isna().all()
    assert (home / "plots" / "style_features" / "mixed.png").stat().st_size > 1000

    meta = result.asset_materializations_for_node("style_features")[0].metadata
    assert meta["degenerate_rows"].value == 1
    assert "perplexity" in meta["feature_stats"].value
    assert meta["histograms"].value.startswith("![")
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {
        "raw_pairs_row_accounting": True,
        "style_features_value_ranges": True,
        "style_features_style_drift": True,
    }


def test_style_features_for_a_bundled_sample_source(instance, home, sample_landing):
    """The smallest bundled source (mixed_style, 60 pairs) with the real default models."""
    instance.add_dynamic_partitions("data_source", ["mixed_style"])
    result = materialize(
        [
            ingest.ingest_source_assets,
            features.style_features_asset(ONE_SHARD),
            features.style_features_checks(ONE_SHARD)[0],  # value_ranges
        ],
        partition_key="mixed_style",
        instance=instance,
        resources=build_resources(str(home), str(sample_landing)),
    )
    assert result.success
    frame = pd.read_parquet(home / "assets" / "style_features" / "mixed_style.parquet")
    assert len(frame) == 60 and frame["degenerate_reason"].isna().all()
    assert frame["perplexity"].notna().all() and frame["n_code_fences"].gt(0).sum() == 20


def _materialize_features(instance, home, landing, config):
    return materialize(
        [
            ingest.ingest_source_assets,
            features.style_features_asset(ONE_SHARD),
            *features.style_features_checks(ONE_SHARD),
        ],
        partition_key="drifting",
        instance=instance,
        resources=build_resources(str(home), str(landing)),
        run_config={"ops": {"style_features": {"config": config}}},
    )


def test_read_computes_the_drift_sample_and_the_drift_check_still_works(instance, home, landing):
    """perplexity/relatedness: read: only the partition's seeded drift sample gets the LM and
    the encoder; the sample's values are cached; a second file of another style moves the
    sampled means and the drift check warns."""
    short = [
        {"instruction": f"Name fruit {i}.", "output": f"Fruit {i} is an apple."} for i in range(30)
    ]
    write_jsonl(landing / "drifting" / "a.jsonl", short)
    instance.add_dynamic_partitions("data_source", ["drifting"])
    config = {"sample_rows": 8}
    first = _materialize_features(instance, home, landing, config)
    assert first.success
    frame = pd.read_parquet(home / "assets" / "style_features" / "drifting.parquet")
    assert frame["perplexity"].notna().sum() == frame["relatedness"].notna().sum() == 8
    assert frame["n_words"].notna().all()  # form: every row
    meta = first.asset_materializations_for_node("style_features")[0].metadata
    surprisal = meta["surprisal"].value
    assert surprisal["perplexity"] == "read" and surprisal["perplexity_rows"] == 8
    assert (surprisal["perplexity_computed"], surprisal["perplexity_reused"]) == (8, 0)
    assert meta["style_stats"].value["perplexity"]["count"] == 8
    assert meta["style_stats"].value["n_words"]["count"] == 30

    long = "Step one: choose a ripe fruit. Step two: wash it well under cold running water. " * 6
    write_jsonl(
        landing / "drifting" / "b.jsonl",
        [{"instruction": f"How do I eat fruit {i}?", "output": long + str(i)} for i in range(30)],
    )
    second = _materialize_features(instance, home, landing, config)
    meta = second.asset_materializations_for_node("style_features")[0].metadata
    surprisal = meta["surprisal"].value
    assert surprisal["perplexity_rows"] == 8 and surprisal["perplexity_reused"] >= 1
    assert surprisal["perplexity_computed"] + surprisal["perplexity_reused"] == 8
    drift = {c.check_name: c for c in second.get_asset_check_evaluations()}[
        "style_features_style_drift"
    ]
    assert not drift.passed and "n_words" in drift.description
    assert drift.metadata["shift_in_std_perplexity"].value >= 0  # compared on the samples
