"""Declarative automation: new raw data re-computes only its source, then the subset; an
identical re-materialization (same data version) re-computes nothing."""

import itertools
import os

from dagster import (
    AssetKey,
    AssetMaterialization,
    AssetRecordsFilter,
    evaluate_automation_conditions,
)

import definitions
from tests.pipeline import ingest_run, write_jsonl

DATA_VERSION_TAG = "dagster/data_version"  # what every run records on a materialization
_fresh = itertools.count()


def _requested(result, key: str) -> set:
    subset = result.get_requested_partitions(AssetKey(key))
    return subset if isinstance(subset, set) else set(subset or [])


def _materialized(instance, key: str, partition: str | None = None, data_version: str = "") -> None:
    """Record a materialization as a run does, with a data version (new data by default)."""
    version = data_version or f"new-{next(_fresh)}"
    event = AssetMaterialization(key, partition=partition, tags={DATA_VERSION_TAG: version})
    instance.report_runless_asset_event(event)


def test_new_raw_data_in_one_source_flows_to_its_features_scores_and_the_subset(instance):
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    first = evaluate_automation_conditions(defs=defs, instance=instance)
    cursor = first.cursor
    _materialized(instance, "raw_pairs", "forum")
    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert result.get_num_requested(AssetKey("style_features")) == 1
    assert _requested(result, "style_features") == {"forum"}
    assert result.get_num_requested(AssetKey("scored_pairs")) == 0  # waits for features
    assert result.get_num_requested(AssetKey("ranker_training_data")) == 0  # no auto-retrain

    for source in ("forum", "guides"):
        for key in ("raw_pairs", "style_features", "scored_pairs"):
            _materialized(instance, key, source)
    settled = evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    _materialized(instance, "style_ranker")
    later = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    # a new champion makes every scored partition stale: both sources are re-scored
    assert _requested(later, "scored_pairs") == {"forum", "guides"}
    assert later.get_num_requested(AssetKey("style_features")) == 0


def test_subset_reselects_when_scores_change_even_with_a_missing_partition(instance):
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    for key in ("raw_pairs", "raw_quarantine", "style_features", "scored_pairs"):
        _materialized(instance, key, "forum")
    _materialized(instance, "style_ranker")
    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert result.get_num_requested(AssetKey("selected_subset")) == 1  # guides is still missing


def test_every_new_subset_is_evaluated_after_it_lands(instance):
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum"])
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    for key in ("raw_pairs", "raw_quarantine", "style_features", "scored_pairs"):
        _materialized(instance, key, "forum")
    for key in ("ranker_training_data", "style_ranker"):
        _materialized(instance, key)
    first = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert first.get_num_requested(AssetKey("selected_subset")) == 1
    assert first.get_num_requested(AssetKey("ranker_evaluation")) == 0  # waits for the subset
    _materialized(instance, "selected_subset")
    second = evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_num_requested(AssetKey("ranker_evaluation")) == 1
    assert second.get_num_requested(AssetKey("selected_subset")) == 0
    _materialized(instance, "ranker_evaluation")
    settled = evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert settled.get_num_requested(AssetKey("ranker_evaluation")) == 0
    _materialized(instance, "selected_subset")
    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    assert result.get_num_requested(AssetKey("ranker_evaluation")) == 1


def test_no_subset_before_a_champion_ranker_exists(instance):
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum"])
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    for key in ("raw_pairs", "raw_quarantine", "style_features"):
        _materialized(instance, key, "forum")
    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert result.get_num_requested(AssetKey("selected_subset")) == 0
    assert result.get_num_requested(AssetKey("scored_pairs")) == 0


def test_subset_waits_while_scores_are_requested_or_running(instance):
    """A new champion re-scores every source; the subset selects once, after the scores."""
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    for source in ("forum", "guides"):
        for key in ("raw_pairs", "raw_quarantine", "style_features", "scored_pairs"):
            _materialized(instance, key, source)
    for key in ("ranker_training_data", "style_ranker", "selected_subset", "ranker_evaluation"):
        _materialized(instance, key)
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    settled = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert settled.get_num_requested(AssetKey("selected_subset")) == 0
    _materialized(instance, "style_ranker")
    rescoring = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    assert _requested(rescoring, "scored_pairs") == {"forum", "guides"}
    assert rescoring.get_num_requested(AssetKey("selected_subset")) == 0  # would race the scores
    _materialized(instance, "scored_pairs", "forum")
    _materialized(instance, "scored_pairs", "guides")
    after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=rescoring.cursor)
    assert after.get_num_requested(AssetKey("selected_subset")) == 1


def _data_versions(instance, key: str, partition: str) -> list[str]:
    """Data versions of every materialization of ``key``/``partition``, newest first."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(key), asset_partitions=[partition]), limit=10
    ).records
    return [r.asset_materialization.tags[DATA_VERSION_TAG] for r in records]


def _settled_graph(instance, home, landing) -> str:
    """Two ingested sources with features, scores, a champion, a subset and its evaluation;
    returns the automation cursor once nothing is requested any more."""
    defs = definitions.defs
    for source in ("forum", "guides"):
        write_jsonl(landing / source / "a.jsonl", [{"prompt": f"{source} q", "response": "an a"}])
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    for source in ("forum", "guides"):
        ingest_run(instance, home, landing, source)
        for key in ("style_features", "scored_pairs"):
            _materialized(instance, key, source)
    for key in ("ranker_training_data", "style_ranker", "selected_subset", "ranker_evaluation"):
        _materialized(instance, key)
    for _ in range(2):
        result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        cursor = result.cursor
    assert result.total_requested == 0
    return cursor


def test_identical_reingest_requests_nothing_and_a_real_change_flows_per_source(
    instance, home, landing
):
    defs = definitions.defs
    cursor = _settled_graph(instance, home, landing)

    ingest_run(instance, home, landing, "forum")  # same files, e.g. re-launched from the UI
    assert len(set(_data_versions(instance, "raw_pairs", "forum"))) == 1
    again = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert again.total_requested == 0

    broken = landing / "forum" / "a.jsonl"  # a new malformed line: only the quarantine changes
    write_jsonl(broken, [{"prompt": "forum q", "response": "an a"}, "{broken"])
    os.utime(broken, ns=(1, 3_000_000_000_000_000_000))
    ingest_run(instance, home, landing, "forum")
    assert len(set(_data_versions(instance, "raw_pairs", "forum"))) == 1
    assert len(set(_data_versions(instance, "raw_quarantine", "forum"))) == 2
    quarantined = evaluate_automation_conditions(defs=defs, instance=instance, cursor=again.cursor)
    assert quarantined.total_requested == 0

    write_jsonl(landing / "forum" / "b.jsonl", [{"prompt": "new q", "response": "new a"}])
    ingest_run(instance, home, landing, "forum")
    changed = evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=quarantined.cursor
    )
    assert _requested(changed, "style_features") == {"forum"}
    assert _requested(changed, "scored_pairs") == {"forum"}  # in the same run, after features
    assert changed.get_num_requested(AssetKey("selected_subset")) == 0  # waits for the scores


def test_identical_features_scores_or_subset_request_nothing_downstream(instance):
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum"])
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    for key in ("raw_pairs", "raw_quarantine", "style_features", "scored_pairs"):
        _materialized(instance, key, "forum", data_version=f"{key}-1")
    for key in ("ranker_training_data", "style_ranker", "selected_subset", "ranker_evaluation"):
        _materialized(instance, key, data_version=f"{key}-1")
    for _ in range(2):
        cursor = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor).cursor

    _materialized(instance, "style_features", "forum", data_version="style_features-1")
    features = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert features.get_num_requested(AssetKey("scored_pairs")) == 0
    _materialized(instance, "scored_pairs", "forum", data_version="scored_pairs-1")
    scores = evaluate_automation_conditions(defs=defs, instance=instance, cursor=features.cursor)
    assert scores.get_num_requested(AssetKey("selected_subset")) == 0
    _materialized(instance, "selected_subset", data_version="selected_subset-1")
    subset = evaluate_automation_conditions(defs=defs, instance=instance, cursor=scores.cursor)
    assert subset.get_num_requested(AssetKey("ranker_evaluation")) == 0

    _materialized(instance, "scored_pairs", "forum", data_version="scored_pairs-2")
    rescored = evaluate_automation_conditions(defs=defs, instance=instance, cursor=subset.cursor)
    assert rescored.get_num_requested(AssetKey("selected_subset")) == 1
