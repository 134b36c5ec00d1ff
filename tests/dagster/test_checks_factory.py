"""Check factories under `materialize()`: metadata, blocking gates, per-partition checks, drift."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetIn,
    DagsterInstance,
    DynamicPartitionsDefinition,
    FilesystemIOManager,
    MaterializeResult,
    asset,
    materialize,
)

from scar_dagster.dagster.checks import (
    build_drift_asset_check,
    build_gx_asset_check,
    style_stats_metadata,
)
from scar_dagster.quality.expectations import (
    row_count_between,
    style_consistency_specs,
    values_unique,
)

POOL_STD = {"ttr": 0.1, "mtld": 20.0, "perplexity": 8.0, "n_words": 150.0}
STYLE = ("ttr", "mtld", "perplexity", "n_words")


def _frame(n_words: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = len(n_words)
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "ttr": rng.normal(0.6, 0.02, n),
            "mtld": rng.normal(70.0, 3.0, n),
            "perplexity": rng.normal(12.0, 1.0, n),
            "n_words": n_words,
        }
    )


CONSISTENT = _frame(np.random.default_rng(1).normal(120.0, 10.0, 40))
MIXED = _frame(np.r_[np.full(20, 20.0), np.full(20, 400.0)])  # planted mixed styles


def _style_specs(df, context):
    return [*style_consistency_specs(POOL_STD), values_unique("id"), row_count_between(1)]


def _pipeline(frame: pd.DataFrame):
    """A subset asset, its blocking style check and a downstream consumer."""

    @asset
    def selected_subset() -> pd.DataFrame:
        return frame

    @asset
    def fine_tuned_model(selected_subset: pd.DataFrame) -> int:
        return len(selected_subset)

    check = build_gx_asset_check(
        asset=selected_subset, name="style_consistency", specs_fn=_style_specs
    )
    return selected_subset, fine_tuned_model, check


@pytest.fixture
def io_manager(tmp_path):
    return {"io_manager": FilesystemIOManager(base_dir=str(tmp_path / "storage"))}


def test_check_name_and_spec():
    _, _, check = _pipeline(CONSISTENT)
    (spec,) = check.check_specs
    assert spec.name == "selected_subset_style_consistency"
    assert spec.blocking


def test_passing_check_reports_metadata(io_manager):
    subset, model, check = _pipeline(CONSISTENT)
    result = materialize([subset, model, check], resources=io_manager)
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.check_name == "selected_subset_style_consistency"
    metadata = evaluation.metadata
    assert metadata["n_failed"].value == 0
    assert metadata["row_count"].value == 40
    assert metadata["observed_std_n_words"].value == pytest.approx(CONSISTENT["n_words"].std())
    assert metadata["max_std_n_words"].value == pytest.approx(120.0)
    json.dumps(metadata["expectations"].value, allow_nan=False)
    assert "| std_ttr |" in metadata["summary"].value
    assert model.key in {e.asset_key for e in result.get_asset_materialization_events()}


def test_failing_blocking_check_stops_downstream(io_manager):
    subset, model, check = _pipeline(MIXED)
    result = materialize([subset, model, check], resources=io_manager, raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == AssetCheckSeverity.ERROR
    assert "std_n_words" in evaluation.description
    assert evaluation.metadata["observed_std_n_words"].value > 120.0
    assert not result.success  # the failed gate fails the run ...
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert subset.key in materialized
    assert model.key not in materialized  # ... and the downstream asset never runs


def test_partitioned_check_runs_per_partition(tmp_path, io_manager):
    sources = DynamicPartitionsDefinition(name="data_source")
    frames = {"alpaca": CONSISTENT, "sharegpt": MIXED}

    @asset(partitions_def=sources)
    def style_features(context) -> pd.DataFrame:
        return frames[context.partition_key]

    seen: list[str] = []

    def specs_fn(df, context):
        seen.append(context.partition_key)
        return style_consistency_specs(POOL_STD)

    check = build_gx_asset_check(
        asset=style_features,
        name="style_consistency",
        specs_fn=specs_fn,
        partitions_def=sources,
        blocking=False,
    )
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("data_source", list(frames))
    verdicts = {}
    for key in frames:
        result = materialize(
            [style_features, check],
            partition_key=key,
            instance=instance,
            resources=io_manager,
            raise_on_error=False,
        )
        (evaluation,) = result.get_asset_check_evaluations()
        assert evaluation.partition == key
        assert evaluation.metadata["row_count"].value == len(frames[key])
        verdicts[key] = evaluation.passed
    assert seen == ["alpaca", "sharegpt"]
    assert verdicts == {"alpaca": True, "sharegpt": False}


def test_additional_ins_reach_specs_fn(io_manager):
    @asset
    def pool_std() -> dict:
        return POOL_STD

    @asset
    def selected_subset() -> pd.DataFrame:
        return MIXED

    check = build_gx_asset_check(
        asset=selected_subset,
        name="style_consistency",
        specs_fn=lambda df, context, pool_std: style_consistency_specs(pool_std),
        additional_ins={"pool_std": AssetIn("pool_std")},
    )
    result = materialize(
        [pool_std, selected_subset, check], resources=io_manager, raise_on_error=False
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed


def test_drift_check_warns_on_mean_shift(io_manager):
    frames = [CONSISTENT, CONSISTENT, CONSISTENT.assign(n_words=CONSISTENT["n_words"] + 200.0)]
    version = iter(frames)

    @asset
    def selected_subset() -> MaterializeResult:
        return MaterializeResult(value=(df := next(version)), metadata=style_stats_metadata(df))

    drift = build_drift_asset_check(asset=selected_subset, columns=STYLE)
    instance = DagsterInstance.ephemeral()
    evaluations = []
    for _ in frames:
        result = materialize([selected_subset, drift], instance=instance, resources=io_manager)
        (evaluation,) = result.get_asset_check_evaluations()
        evaluations.append(evaluation)
    first, same, shifted = evaluations
    assert first.passed and "no previous" in first.description
    assert same.passed and same.metadata["shift_in_std_n_words"].value == 0.0
    assert not shifted.passed
    assert shifted.severity == AssetCheckSeverity.WARN
    assert shifted.description == "drifted: n_words"
    assert result.success  # a WARN check never fails the run
    assert drift.check_keys == {AssetCheckKey(selected_subset.key, "selected_subset_style_drift")}


def test_projected_checks_read_only_their_columns_of_each_source_x_shard_partition(tmp_path):
    from dagster import MultiPartitionsDefinition, StaticPartitionsDefinition

    from scar_dagster.dagster.io_managers import ParquetIOManager
    from scar_dagster.dagster.resources import StorageResource

    parts = MultiPartitionsDefinition(
        {"data_source": StaticPartitionsDefinition(["alpaca"]), "shard": _shards()}
    )
    frames = {"0": CONSISTENT, "1": MIXED}

    @asset(partitions_def=parts)
    def style_features(context) -> pd.DataFrame:
        return frames[context.partition_key.keys_by_dimension["shard"]]

    seen: dict[str, list[str]] = {}

    def specs_fn(df, context):
        seen[str(context.partition_key)] = list(df.columns)
        return style_consistency_specs(POOL_STD)

    check = build_gx_asset_check(
        asset=style_features,
        name="style_consistency",
        specs_fn=specs_fn,
        partitions_def=parts,
        blocking=False,
        columns=list(STYLE),
    )
    drift = build_drift_asset_check(
        asset=style_features, partitions_def=parts, read_columns_only=True
    )
    storage = StorageResource(root=str(tmp_path / "home"), landing_zone=str(tmp_path / "in"))
    resources = {"io_manager": ParquetIOManager(storage=storage)}
    verdicts = {}
    for key in parts.get_partition_keys():
        result = materialize([style_features, check, drift], partition_key=key, resources=resources)
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert evaluations["style_features_style_drift"].passed  # no previous version
        verdicts[str(key)] = evaluations["style_features_style_consistency"].passed
    assert seen == {"alpaca|0": list(STYLE), "alpaca|1": list(STYLE)}  # no id column read
    assert verdicts == {"alpaca|0": True, "alpaca|1": False}


def test_a_projected_check_needs_an_io_manager_that_reads_columns(io_manager):
    @asset
    def selected_subset() -> pd.DataFrame:
        return CONSISTENT

    check = build_gx_asset_check(
        asset=selected_subset, name="style", specs_fn=_style_specs, columns=["ttr"]
    )
    with pytest.raises(TypeError, match="has no read_columns"):
        materialize([selected_subset, check], resources=io_manager)


def _shards():
    from dagster import StaticPartitionsDefinition

    return StaticPartitionsDefinition(["0", "1"])


def test_a_check_on_value_codes_fails_on_duplicate_texts_and_shows_them(tmp_path):
    """``coded_columns``: GX gets codes, the verdict and the failing examples are the texts'."""
    from scar_dagster.dagster.io_managers import ParquetIOManager
    from scar_dagster.dagster.resources import StorageResource
    from scar_dagster.quality.expectations import values_not_null

    texts = ["same answer é", "other", "same answer é", "third"]

    @asset
    def selected_subset() -> pd.DataFrame:
        return pd.DataFrame({"id": ["a", "b", "c", "d"], "response": texts, "n": range(4)})

    seen = {}

    def specs_fn(df, context):
        seen["dtype"] = str(df["response"].dtype)  # specs_fn gets the codes
        return [values_unique("id"), values_unique("response"), values_not_null("response")]

    check = build_gx_asset_check(
        asset=selected_subset,
        name="integrity",
        specs_fn=specs_fn,
        columns=["id", "response"],
        coded_columns=["id", "response"],
    )
    storage = StorageResource(root=str(tmp_path / "home"), landing_zone=str(tmp_path / "in"))
    result = materialize(
        [selected_subset, check],
        resources={"io_manager": ParquetIOManager(storage=storage)},
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and seen["dtype"] == "Int64"
    assert evaluation.description == "1 of 3 failed: unique_response"
    outcome = evaluation.metadata["expectations"].value["results"][1]
    assert outcome["observed_value"]["unexpected_count"] == 2
    assert outcome["observed_value"]["partial_unexpected_list"] == ["same answer é"] * 2
    assert evaluation.metadata["row_count"].value == 4


def test_a_coded_column_refuses_an_expectation_on_its_values(io_manager):
    from scar_dagster.quality.expectations import values_between

    @asset
    def selected_subset() -> pd.DataFrame:
        return CONSISTENT

    check = build_gx_asset_check(
        asset=selected_subset,
        name="range",
        specs_fn=lambda df, context: [values_between("ttr", min_value=0, max_value=1)],
        coded_columns=["ttr"],
    )
    result = materialize([selected_subset, check], resources=io_manager, raise_on_error=False)
    assert not result.success
    assert "needs the values" in str(result.all_events)
