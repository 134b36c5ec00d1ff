"""Declarative automation: new raw data re-computes only its source, then the subset."""

from dagster import AssetKey, AssetMaterialization, evaluate_automation_conditions

import definitions


def _requested(result, key: str) -> set:
    subset = result.get_requested_partitions(AssetKey(key))
    return subset if isinstance(subset, set) else set(subset or [])


def test_new_raw_data_in_one_source_flows_to_its_features_scores_and_the_subset(instance):
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    first = evaluate_automation_conditions(defs=defs, instance=instance)
    cursor = first.cursor
    instance.report_runless_asset_event(AssetMaterialization("raw_pairs", partition="forum"))
    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert result.get_num_requested(AssetKey("style_features")) == 1
    assert _requested(result, "style_features") == {"forum"}
    assert result.get_num_requested(AssetKey("scored_pairs")) == 0  # waits for features
    assert result.get_num_requested(AssetKey("ranker_training_data")) == 0  # no auto-retrain

    for source in ("forum", "guides"):
        for key in ("raw_pairs", "style_features", "scored_pairs"):
            instance.report_runless_asset_event(AssetMaterialization(key, partition=source))
    settled = evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    instance.report_runless_asset_event(AssetMaterialization("style_ranker"))
    later = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    # a new champion makes every scored partition stale: both sources are re-scored
    assert _requested(later, "scored_pairs") == {"forum", "guides"}
    assert later.get_num_requested(AssetKey("style_features")) == 0


def test_subset_reselects_when_scores_change_even_with_a_missing_partition(instance):
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    for key in ("raw_pairs", "raw_quarantine", "style_features", "scored_pairs"):
        instance.report_runless_asset_event(AssetMaterialization(key, partition="forum"))
    instance.report_runless_asset_event(AssetMaterialization("style_ranker"))
    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert result.get_num_requested(AssetKey("selected_subset")) == 1  # guides is still missing


def test_every_new_subset_is_evaluated_after_it_lands(instance):
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum"])
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    for key in ("raw_pairs", "raw_quarantine", "style_features", "scored_pairs"):
        instance.report_runless_asset_event(AssetMaterialization(key, partition="forum"))
    for key in ("ranker_training_data", "style_ranker"):
        instance.report_runless_asset_event(AssetMaterialization(key))
    first = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert first.get_num_requested(AssetKey("selected_subset")) == 1
    assert first.get_num_requested(AssetKey("ranker_evaluation")) == 0  # waits for the subset
    instance.report_runless_asset_event(AssetMaterialization("selected_subset"))
    second = evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_num_requested(AssetKey("ranker_evaluation")) == 1
    assert second.get_num_requested(AssetKey("selected_subset")) == 0
    instance.report_runless_asset_event(AssetMaterialization("ranker_evaluation"))
    settled = evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert settled.get_num_requested(AssetKey("ranker_evaluation")) == 0
    instance.report_runless_asset_event(AssetMaterialization("selected_subset"))
    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    assert result.get_num_requested(AssetKey("ranker_evaluation")) == 1


def test_no_subset_before_a_champion_ranker_exists(instance):
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum"])
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    for key in ("raw_pairs", "raw_quarantine", "style_features"):
        instance.report_runless_asset_event(AssetMaterialization(key, partition="forum"))
    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert result.get_num_requested(AssetKey("selected_subset")) == 0
    assert result.get_num_requested(AssetKey("scored_pairs")) == 0


def test_subset_waits_while_scores_are_requested_or_running(instance):
    """A new champion re-scores every source; the subset selects once, after the scores."""
    defs = definitions.defs
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    for source in ("forum", "guides"):
        for key in ("raw_pairs", "raw_quarantine", "style_features", "scored_pairs"):
            instance.report_runless_asset_event(AssetMaterialization(key, partition=source))
    for key in ("ranker_training_data", "style_ranker", "selected_subset", "ranker_evaluation"):
        instance.report_runless_asset_event(AssetMaterialization(key))
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    settled = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert settled.get_num_requested(AssetKey("selected_subset")) == 0
    instance.report_runless_asset_event(AssetMaterialization("style_ranker"))
    rescoring = evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    assert _requested(rescoring, "scored_pairs") == {"forum", "guides"}
    assert rescoring.get_num_requested(AssetKey("selected_subset")) == 0  # would race the scores
    instance.report_runless_asset_event(AssetMaterialization("scored_pairs", partition="forum"))
    instance.report_runless_asset_event(AssetMaterialization("scored_pairs", partition="guides"))
    after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=rescoring.cursor)
    assert after.get_num_requested(AssetKey("selected_subset")) == 1
