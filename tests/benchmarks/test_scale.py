"""The scale benchmark end to end at 10k rows (tiny encoder, sampled features; no timings)."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks import scale
from scar_dagster.selection.select import SelectionParams, select_pairs
from scar_dagster.storage import tables


@pytest.fixture(scope="module")
def run_10k(tmp_path_factory):
    work = tmp_path_factory.mktemp("scale")
    args = scale.parse_args(
        [
            "--sizes", "10000",
            "--workdir", str(work),
            "--keep",
            "--tiny-encoder",
            "--score-sample", "64",
            "--features-max-rows", "2000",
        ]
    )  # fmt: skip
    return work / "rows_10000", scale.run(args)[10000]


def test_every_input_row_is_accounted_for(run_10k):
    _, results = run_10k
    ingest = results["ingest"]
    assert ingest["input"] == 10_000
    assert ingest["problems"] == []
    assert ingest["duplicates"] > 0 and ingest["quarantined"] > 0
    assert results["text_index"]["rows"] == results["score_write"]["rows"] == ingest["kept"]
    assert results["features"]["rows"] == 2000 and results["features"]["sampled"]
    assert results["score_sample"]["rows"] == 64


def test_every_stage_reports_time_and_memory(run_10k):
    _, results = run_10k
    assert list(results) == list(scale.STAGES)
    for out in results.values():
        assert out["seconds"] >= 0 and out["peak_rss_mb"] >= out["import_rss_mb"] > 0


def test_selection_returns_k_rows_in_score_order_as_select_pairs(run_10k):
    work, results = run_10k
    k = scale.select_k(results["ingest"]["kept"], 0.01)
    selected = pd.read_parquet(work / "selected.parquet")
    assert len(selected) == results["select"]["selected"] == k
    assert selected["rank"].tolist() == list(range(1, k + 1))
    order = list(zip(-selected["score"], selected["pair_id"], strict=True))
    assert order == sorted(order)

    raw = pd.concat(pd.read_parquet(p) for p in scale.raw_files(work))
    engine = tables.create_engine_for(f"sqlite:///{work / 'scores.db'}")
    scores = tables.read_scores(engine, scale.RANKER_VERSION)
    engine.dispose()
    pool = raw.merge(scores[["pair_id", "score"]], left_on="id", right_on="pair_id")
    decisions = select_pairs(pool, SelectionParams(top_k=k, near_dedup=False))
    assert selected["pair_id"].tolist() == decisions.loc[decisions["selected"], "pair_id"].tolist()


def test_scores_are_deterministic_with_ties():
    ids = [f"{i:024x}" for i in range(5000)]
    scores = scale.synthetic_scores(ids)
    assert scores == scale.synthetic_scores(ids)
    assert all(-1 <= s < 1 for s in scores)
    assert len(set(scores)) < len(scores)
