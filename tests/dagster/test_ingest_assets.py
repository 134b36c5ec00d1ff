"""raw_pairs / raw_quarantine materialize per source with metadata and the accounting check."""

import pandas as pd
from dagster import materialize

from assets import ingest
from definitions import build_resources
from tests.pipeline import write_jsonl


def _materialize(instance, home, landing, source):
    instance.add_dynamic_partitions("data_source", [source])
    return materialize(
        [ingest.ingest_source_assets],
        partition_key=source,
        instance=instance,
        resources=build_resources(str(home), str(landing)),
    )


def test_raw_pairs_and_quarantine_are_written_per_source(instance, home, landing):
    write_jsonl(
        landing / "forum" / "a.jsonl",
        [
            {"instruction": "Q1", "output": "A1"},
            "{oops",
            {"instruction": "Q1", "output": "A1"},
            {"instruction": "Q2", "output": "A2"},
        ],
    )
    result = _materialize(instance, home, landing, "forum")
    assert result.success
    pairs = pd.read_parquet(home / "assets" / "raw_pairs" / "forum.parquet")
    quarantine = pd.read_parquet(home / "assets" / "raw_quarantine" / "forum.parquet")
    assert list(pairs["instruction"]) == ["Q1", "Q2"]
    assert sorted(quarantine["reason"]) == ["ingest_duplicate", "ingest_malformed_json"]

    meta = result.asset_materializations_for_node("ingest_source")
    by_key = {m.asset_key.to_user_string(): m.metadata for m in meta}
    assert by_key["raw_pairs"]["dagster/row_count"].value == 2
    assert by_key["raw_pairs"]["input_records"].value == 4
    assert "dagster/column_schema" in by_key["raw_pairs"]
    assert "ingest_malformed_json" in by_key["raw_quarantine"]["by_reason"].value

    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("raw_pairs_row_accounting", True)]
    assert checks[0].metadata["input_records"].value == 4


def test_sample_data_ingests_with_expected_dirty_rows(instance, home, sample_landing):
    sources = sorted(p.name for p in sample_landing.iterdir() if p.is_dir())
    assert len(sources) >= 3
    total = 0
    for source in sources:
        result = _materialize(instance, home, sample_landing, source)
        assert result.success
        total += len(pd.read_parquet(home / "assets" / "raw_pairs" / f"{source}.parquet"))
    assert total >= 600
