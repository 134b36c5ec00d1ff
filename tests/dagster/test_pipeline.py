"""The whole graph on planted data: scores in SQL, an explained, exported, gated subset."""

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, build_sensor_context

import definitions
from scar_dagster.storage import tables
from tests.pipeline import (
    materialize_group,
    resources,
    run_config,
    run_pipeline,
    write_jsonl,
    write_landing,
    write_quadruples,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    """The pipeline run once, on disk: landing zone, storage root, quadruples and instance."""
    root = tmp_path_factory.mktemp("pipeline")
    landing, home = root / "landing", root / "home"
    home.mkdir()
    write_landing(landing)
    quads = write_quadruples(root / "quads.jsonl")
    (root / "instance").mkdir()
    with DagsterInstance.local_temp(str(root / "instance")) as instance:
        results = run_pipeline(instance, home, landing, quads, top_k=8)
    return root, results


@contextmanager
def _open(root: Path, results: dict) -> Iterator[dict]:
    home, landing = root / "home", root / "landing"
    engine = resources(home, landing)["database"].get_engine()
    with DagsterInstance.local_temp(str(root / "instance")) as instance:
        yield {
            "instance": instance,
            "home": home,
            "landing": landing,
            "quads": root / "quads.jsonl",
            "results": results,
            "engine": engine,
        }
    engine.dispose()


@pytest.fixture(scope="module")
def pipeline(built):
    """The built pipeline, shared: tests using it only read (no materialization, no new file)."""
    with _open(*built) as view:
        yield view


@pytest.fixture()
def own_pipeline(built, tmp_path):
    """A private copy of the built pipeline for a test that materializes more or adds files."""
    root, results = built
    shutil.copytree(root, tmp_path / "pipeline")
    with _open(tmp_path / "pipeline", results) as view:
        yield view


def _meta(result, node):
    return {k: v.value for k, v in result.asset_materializations_for_node(node)[0].metadata.items()}


def test_every_stage_succeeds(pipeline):
    results = pipeline["results"]
    assert all(r.success for r in results.values()), [
        k for k, r in results.items() if not r.success
    ]
    ranker = _meta(results["ranker"], "style_ranker")
    assert ranker["promoted"] is True and ranker["champion_version"] == ranker["trained_version"]


def test_scores_are_in_sql_once_per_pair(pipeline):
    ranker = _meta(pipeline["results"]["ranker"], "style_ranker")["champion_version"]
    scores = tables.read_scores(pipeline["engine"], ranker)
    assert len(scores) == scores["id"].nunique() == 15 + 16  # forum keeps 16 (one non-English)
    assert set(scores["source"]) == {"forum", "guides"}
    scoring = _meta(pipeline["results"]["scoring/guides"], "scored_pairs")
    assert scoring["rows_scored"] == 15 and scoring["rows_reused"] == 0


def test_subset_is_the_consistent_style_and_explained(pipeline):
    result = pipeline["results"]["selection"]
    meta = _meta(result, "selected_subset")
    subset = pd.read_parquet(pipeline["home"] / "assets" / "selected_subset.parquet")
    assert len(subset) == meta["dagster/row_count"] == 8
    assert set(subset["source"]) == {"guides"}
    version = meta["subset_version"]
    decisions = tables.read_decisions(pipeline["engine"], version)
    reasons = decisions.set_index("id")["reason"]
    assert (reasons == "language_non_english").sum() == 1
    assert (reasons == "dedup_near").sum() == 7  # the planted reposts, by exact Jaccard ~0.8
    assert {"ingest_malformed_json", "ingest_empty_text", "ingest_duplicate"} <= set(reasons)
    input_rows = 15 + 19
    assert len(decisions) == input_rows  # every input row has exactly one decision
    selected_id = subset["id"].iloc[0]
    assert tables.explain(pipeline["engine"], selected_id)["reason"] == "selected"
    non_english = reasons[reasons == "language_non_english"].index[0]
    assert tables.explain(pipeline["engine"], non_english)["selected"] is False


def test_exports_are_versioned_and_complete(pipeline):
    meta = _meta(pipeline["results"]["selection"], "selected_subset")
    folder = pipeline["home"] / "subsets" / meta["subset_version"]
    assert meta["dagster/uri"] == str(folder)
    lines = (folder / "alpaca.jsonl").read_text().splitlines()
    assert len(lines) == meta["dagster/row_count"]
    assert set(json.loads(lines[0])) == {"instruction", "input", "output"}
    assert (folder / "_SUCCESS").exists() and (folder / "report.md").exists()


def _tick(instance, cursor=None):
    sensor = definitions.defs.resolve_sensor_def("fine_tune_sensor")
    with build_sensor_context(
        instance=instance, cursor=cursor, definitions=definitions.defs
    ) as context:
        return sensor.evaluate_tick(context)


def test_consistent_subset_passes_gates_and_fine_tunes_exactly_once(pipeline):
    result = pipeline["results"]["selection"]
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert {name: c.passed for name, c in checks.items()} == {
        "selected_subset_style_consistency": True,
        "selected_subset_integrity": True,
    }
    rows = checks["selected_subset_style_consistency"].metadata
    assert rows["subset_rows_std_perplexity"].value == 8  # every row of the subset: a sample
    assert rows["pool_rows_std_perplexity"].value == 15 + 16  # every valid pool row: <= 2,000
    assert rows["ratio_error_std_perplexity"].value == 0.0
    reads = _meta(result, "selected_subset")["perplexity_reads"]
    assert reads["mode"] == "read" and reads["computed"] == 0  # the features' drift samples
    assert reads["reused"] == reads["rows"]["pool"]  # (whole sources) held every value
    version = _meta(result, "selected_subset")["subset_version"]
    first = _tick(pipeline["instance"])
    assert [r.run_key for r in first.run_requests] == [version]
    assert _tick(pipeline["instance"], first.cursor).run_requests == []


def test_fine_tuned_model_records_the_subset_version(own_pipeline, tmp_path):
    """The command launcher gets the subset through env vars; the asset records the lineage."""
    import sys

    from scar_dagster.dagster.resources import FineTuneResource

    res = resources(own_pipeline["home"], own_pipeline["landing"])
    script = (
        "import os, pathlib; out = pathlib.Path(os.environ['SCAR_OUTPUT_DIR']); "
        "out.mkdir(parents=True, exist_ok=True); "
        "(out / 'seen.txt').write_text(os.environ['SCAR_SUBSET_VERSION'] + ' ' + "
        "str(sum(1 for _ in open(os.environ['SCAR_SUBSET_PATH']))))"
    )
    res["fine_tune"] = FineTuneResource(
        mode="command", command=f'{sys.executable} -c "{script}"', output_root=str(tmp_path)
    )
    result = materialize_group(own_pipeline["instance"], res, {"ops": {}}, ["finetune"])
    assert result.success
    meta = _meta(result, "fine_tuned_model")
    version = _meta(own_pipeline["results"]["selection"], "selected_subset")["subset_version"]
    assert meta["subset_version"] == version
    assert (tmp_path / version / "seen.txt").read_text() == f"{version} 8"


def test_mixed_subset_fails_the_gate_and_blocks_fine_tuning(own_pipeline):
    """ratio=0.5 takes forum answers too: TTR, MTLD and length spread exceed 0.8 x pool."""
    res = resources(own_pipeline["home"], own_pipeline["landing"])
    config = run_config(own_pipeline["quads"], ratio=0.5)
    instance = own_pipeline["instance"]
    result = materialize_group(
        instance, res, config, ["selection", "finetune"], raise_on_error=False
    )
    assert not result.success
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}[
        "selected_subset_style_consistency"
    ]
    assert not check.passed
    assert check.metadata["observed_std_n_words"].value > check.metadata["max_std_n_words"].value
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "selected_subset" in materialized and "fine_tuned_model" not in materialized
    tick = _tick(instance)
    assert tick.run_requests == [] and "style_consistency failed" in tick.skip_message


def test_adding_rows_rescores_only_the_new_rows(own_pipeline):
    res = resources(own_pipeline["home"], own_pipeline["landing"])
    config = run_config(own_pipeline["quads"])
    write_jsonl(
        own_pipeline["landing"] / "forum" / "b.jsonl",
        [
            {"instruction": f"new question {i}", "output": f"new answer number {i} lol"}
            for i in range(10)
        ],
    )
    for groups in (["ingest", "features"], ["scoring"]):
        result = materialize_group(own_pipeline["instance"], res, config, groups, "forum")
        assert result.success
    meta = _meta(result, "scored_pairs")
    assert (meta["rows_scored"], meta["rows_reused"]) == (10, 16)


def test_ranker_evaluation_matches_training_test_split_and_beats_random(pipeline):
    results = pipeline["results"]
    ranker = _meta(results["ranker"], "style_ranker")
    meta = _meta(results["evaluation"], "ranker_evaluation")
    test = ranker["metrics"]["test"]
    # Same held-out pairs, scored by the inference path instead of the training forward pass.
    assert meta["pairs"] == test["pairs"] > 0
    assert meta["pairwise_accuracy"] == pytest.approx(test["overall"])
    assert meta["accuracy_ci95_low"] <= meta["pairwise_accuracy"] <= meta["accuracy_ci95_high"]
    assert meta["ranker_version"] == ranker["champion_version"]
    # The planted subset is all "guides": far more uniform in length than a random mix.
    assert meta["subset_rows"] == 8
    assert meta["std_ratio_n_words"] < 1.0


def test_ranker_trains_from_a_quadruple_file_before_any_source_exists(tmp_path):
    landing, home = tmp_path / "landing", tmp_path / "home"
    landing.mkdir()
    home.mkdir()
    quads = write_quadruples(tmp_path / "quads.jsonl")
    with DagsterInstance.ephemeral() as instance:  # no data_source partition at all
        result = materialize_group(
            instance, resources(home, landing), run_config(quads), ["ranker"]
        )
    assert result.success
    assert _meta(result, "style_ranker")["promoted"] is True


def test_streaming_selection_gives_the_same_subset(own_pipeline):
    """selected_subset on the streaming path (SQL score order, texts chunk by chunk) decides
    every row as the in-memory path the pipeline took (a pool this small stays in memory)."""
    built = _meta(own_pipeline["results"]["selection"], "selected_subset")
    assert built["selection_path"] == "memory"
    engine = own_pipeline["engine"]
    before = tables.read_decisions(engine, built["subset_version"])
    res = resources(own_pipeline["home"], own_pipeline["landing"])
    config = run_config(own_pipeline["quads"], top_k=8, mode="streaming", chunk_rows=3)
    result = materialize_group(own_pipeline["instance"], res, config, ["selection"])
    meta = _meta(result, "selected_subset")
    assert meta["selection_path"] == "streaming"
    assert meta["subset_version"] == built["subset_version"]
    assert meta["decisions_by_reason"] == built["decisions_by_reason"]
    after = tables.read_decisions(engine, meta["subset_version"])  # rewritten by this run
    pd.testing.assert_frame_equal(after, before)


def test_auto_ranks_by_the_champion_trained_on_a_quadruple_file(pipeline):
    meta = _meta(pipeline["results"]["selection"], "selected_subset")
    ranker = _meta(pipeline["results"]["ranker"], "style_ranker")
    assert ranker["ranker_kind"] == "quadruple_file"
    assert meta["selector"] == "scar" and meta["selector_requested"] == "auto"
    assert meta["selector_version"] == ranker["champion_version"]
    assert "real ranker (quadruple_file)" in meta["selector_reason"]


def test_another_selector_goes_through_the_same_path_and_gates(own_pipeline):
    built = _meta(own_pipeline["results"]["selection"], "selected_subset")
    res = resources(own_pipeline["home"], own_pipeline["landing"])
    config = run_config(own_pipeline["quads"], top_k=8, selector="length")
    result = materialize_group(
        own_pipeline["instance"], res, config, ["selection"], raise_on_error=False
    )
    meta = _meta(result, "selected_subset")
    assert meta["selector"] == "length" and meta["selector_version"].startswith("length-")
    assert meta["selector_scored"] == 31 and meta["subset_version"] != built["subset_version"]
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert set(checks) == {"selected_subset_style_consistency", "selected_subset_integrity"}
    assert all(c.metadata for c in checks.values())
    engine = own_pipeline["engine"]
    decisions = tables.read_decisions(engine, meta["subset_version"])
    assert len(decisions) == 15 + 19 and decisions["reason"].str.len().gt(0).all()
    stored = tables.read_selector_scores(engine, meta["selector_version"]).set_index("id")
    chosen = decisions[decisions["selected"]]
    assert (chosen["score"].to_numpy() == stored.loc[chosen["id"], "score"].to_numpy()).all()
    again = materialize_group(own_pipeline["instance"], res, config, ["selection"])
    second = _meta(again, "selected_subset")
    assert second["selector_scored"] == 0 and second["selector_reused"] == 31
    assert second["subset_version"] == meta["subset_version"]


def test_selector_comparison_materializes_with_its_plot(own_pipeline):
    from dagster import AssetSelection, materialize

    res = resources(own_pipeline["home"], own_pipeline["landing"])
    config = {"selectors": ["scar", "length", "random"], "ratio": 0.5}
    result = materialize(
        assets=list(definitions.defs.assets),
        selection=AssetSelection.assets("selector_comparison"),
        instance=own_pipeline["instance"],
        resources=res,
        run_config={"ops": {"selector_comparison": {"config": config}}},
    )
    meta = _meta(result, "selector_comparison")
    assert meta["selectors"] == "scar, length, random" and meta["dagster/row_count"] == 3
    assert "![spread and overlap](data:image/png;base64," in meta["plot"]
    assert "Jaccard" in meta["comparison"]
    versions = set(tables.list_subset_versions(own_pipeline["engine"])["subset_version"])
    assert len(versions) == 1  # its subsets live in a scratch database, not beside the asset's
