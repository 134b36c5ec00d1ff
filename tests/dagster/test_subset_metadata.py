"""The selected_subset metadata built from a curation result, without running the asset."""

from __future__ import annotations

import pandas as pd

from scar_dagster import schema
from scar_dagster.dagster.subset_metadata import subset_metadata
from scar_dagster.selection import SelectionParams, SelectionRun, curate
from scar_dagster.storage import tables
from scar_dagster.storage.stores import LocalStore
from tests.selection_pool import RANKER, planted_pairs


def test_metadata_of_a_curated_subset(tmp_path):
    pairs, features, scores = planted_pairs()
    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'scores.db'}")
    tables.ensure_schema(engine)
    tables.upsert_scores(engine, scores.assign(ranker_version=RANKER))
    try:
        result = curate(
            pairs=pairs,
            quarantine=pd.DataFrame(columns=list(schema.QUARANTINE_COLUMNS)),
            features=features,
            ranker_version=RANKER,
            params=SelectionParams(top_k=12),
            engine=engine,
            store=LocalStore(tmp_path / "store"),
            prefix="subsets",
            folder=tmp_path / "work",
            run=SelectionRun(mode="streaming"),
        )
    finally:
        engine.dispose()
    meta = subset_metadata(result, RANKER)
    assert meta["dagster/row_count"] == result.subset_rows == 12  # not the preview's 5 rows
    assert meta["subset_version"] == result.version and meta["ranker_version"] == RANKER
    assert meta["max_rows"] == 12 and meta["selection_path"] == "streaming"
    assert meta["decisions_by_reason"].data == result.reason_counts
    assert set(meta["pool_style_stats"].data) == set(schema.STYLE_METRICS)
    assert meta["diff"].md_str == "first version"
    assert meta["preview"].md_str.count("\n") == 6  # header, rule and 5 rows
    assert meta["dagster/uri"].path == result.uri and meta["report_path"].path == result.report_uri
    assert "![scores](data:image/png;base64," in meta["score_histogram"].md_str
