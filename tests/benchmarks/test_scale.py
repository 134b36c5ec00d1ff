"""The scale benchmark end to end at 10k rows (tiny encoder, sampled features; no timings)."""

from __future__ import annotations

import pytest

from benchmarks import scale
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
    assert results["score_write"]["rows"] == ingest["kept"]
    assert results["features"]["rows"] == 2000 and results["features"]["sampled"]
    assert results["score_sample"]["rows"] == 64


def test_every_stage_reports_time_and_memory(run_10k):
    _, results = run_10k
    assert list(results) == list(scale.STAGES)
    for out in results.values():
        assert out["seconds"] >= 0 and out["peak_rss_mb"] >= out["import_rss_mb"] > 0


def test_every_kept_pair_has_one_synthetic_score_in_sql(run_10k):
    work, results = run_10k
    engine = tables.create_engine_for(f"sqlite:///{work / 'scores.db'}")
    scores = tables.read_scores(engine, scale.RANKER_VERSION)
    engine.dispose()
    assert len(scores) == scores["id"].nunique() == results["ingest"]["kept"]
    assert scores["score"].between(-1, 1).all()
