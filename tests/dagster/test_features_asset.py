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
