"""Asset-check factories: Great Expectations gates and feature-drift warnings for DataFrame assets.

Each factory returns an `AssetChecksDefinition` whose check loads the asset's stored value
through its IO manager, runs a plain check from `scar_dagster.quality` and reports the observed
values, bounds and verdicts as JSON-safe metadata plus a markdown table. Check names read
`<asset>_<property>`, e.g. `selected_subset_style_consistency`.

Example::

    style_check = build_gx_asset_check(
        asset=selected_subset,
        name="style_consistency",
        specs_fn=lambda df, context: style_consistency_specs(POOL_STD),
    )
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetIn,
    AssetKey,
    AssetRecordsFilter,
    AssetsDefinition,
    AssetSpec,
    MetadataValue,
    PartitionsDefinition,
    PreviewWarning,
    SourceAsset,
    asset_check,
)

from scar_dagster.memory import release_unused_memory
from scar_dagster.quality.drift import (
    DEFAULT_MAX_SHIFT_IN_STD,
    DriftResult,
    column_stats,
    feature_drift,
)
from scar_dagster.quality.expectations import (
    STYLE_METRICS,
    ExpectationSpec,
    ValidationOutcome,
    run_expectations,
)
from scar_dagster.quality.value_codes import Batches, check_codable, coded, frame_batches

if TYPE_CHECKING:
    import pandas as pd

AssetTarget = AssetsDefinition | AssetSpec | SourceAsset | AssetKey | str | Sequence[str]
SpecsFn = Callable[..., Sequence[ExpectationSpec]]
"""`specs_fn(df, context, **additional_inputs) -> list[ExpectationSpec]`."""

STYLE_STATS_METADATA_KEY = "style_stats"
"""Materialization metadata key holding `column_stats` JSON, read by the drift check."""

FIGURE_ROWS_KEYS = ("subset_rows", "pool_rows", "ratio_error")
_ASSET_PARAM = "asset_value"
_PREVIOUS_LOOKBACK = 20


def build_gx_asset_check(
    *,
    asset: AssetTarget,
    name: str,
    specs_fn: SpecsFn,
    description: str | None = None,
    blocking: bool = True,
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
    partitions_def: PartitionsDefinition | None = None,
    additional_ins: Mapping[str, AssetIn] | None = None,
    required_resource_keys: set[str] | None = None,
    to_frame: Callable[[Any], pd.DataFrame] | None = None,
    columns: Sequence[str] | None = None,
    io_manager_key: str = "io_manager",
    coded_columns: Sequence[str] = (),
) -> AssetChecksDefinition:
    """An asset check validating the asset's DataFrame against a GX suite built per run.

    Args:
        name: the checked property; the check is named `<asset>_<name>` (a name that already
            starts with `<asset>_` is kept as is).
        specs_fn: called as `specs_fn(df, context, **additional_inputs)`, so bounds may depend
            on the partition, resources (`context.resources`) or other assets (`additional_ins`).
        blocking: with `severity=ERROR`, a failure stops downstream assets in the same run.
        partitions_def: the asset's partitions definition to check each partition on its own
            (Dagster preview feature); None checks the asset as a whole.
        to_frame: converts the loaded value to a DataFrame when the IO manager returns
            something else.
        columns: read only these columns of the stored asset (partition) instead of loading
            it whole: the IO manager at ``io_manager_key`` must have ``read_columns`` (as
            ``ParquetIOManager``); the check then depends on the asset without an input.
        coded_columns: columns GX gets as value codes (``quality.value_codes``): for
            uniqueness and null checks on long texts, which GX would otherwise hash and
            factorize into a Python string per row. With ``columns``, the stored asset is read
            a row group at a time (the IO manager needs ``read_batches``); ``specs_fn`` gets
            the coded frame, and the failing examples show the values.
    """
    key = _asset_key(asset)
    check_name = _check_name(key, name)

    def _check(context: AssetCheckExecutionContext, **inputs: Any) -> AssetCheckResult:
        if coded_columns:
            read, names = _batches(
                context, inputs, key, columns, io_manager_key, to_frame, check_name
            )
            codes = coded(read, names, coded_columns)
            release_unused_memory()  # the batches' pages, before GX loads and runs
            specs = list(specs_fn(codes.frame, context, **inputs))
            check_codable(specs, coded_columns)
            outcome = codes.decode(run_expectations(codes.frame, specs, suite_name=check_name))
            return gx_check_result(outcome, severity=severity, row_count=len(codes.frame))
        df = _checked_frame(context, inputs, key, columns, io_manager_key, to_frame, check_name)
        specs = list(specs_fn(df, context, **inputs))
        outcome = run_expectations(df, specs, suite_name=check_name)
        return gx_check_result(outcome, severity=severity, row_count=len(df))

    _check.__signature__ = _signature(additional_ins, columns)  # type: ignore[attr-defined]
    return _decorate(
        _check,
        key=key,
        check_name=check_name,
        description=description or f"Great Expectations suite `{check_name}` on `{key.path[-1]}`.",
        blocking=blocking,
        partitions_def=partitions_def,
        additional_ins=additional_ins,
        required_resource_keys=_with_loader(required_resource_keys, columns, io_manager_key),
    )


def build_drift_asset_check(
    *,
    asset: AssetTarget,
    name: str = "style_drift",
    columns: Sequence[str] = STYLE_METRICS,
    max_shift_in_std: float | Callable[[AssetCheckExecutionContext], float] = (
        DEFAULT_MAX_SHIFT_IN_STD
    ),
    stats_metadata_key: str = STYLE_STATS_METADATA_KEY,
    description: str | None = None,
    blocking: bool = False,
    required_resource_keys: set[str] | None = None,
    severity: AssetCheckSeverity = AssetCheckSeverity.WARN,
    partitions_def: PartitionsDefinition | None = None,
    to_frame: Callable[[Any], pd.DataFrame] | None = None,
    read_columns_only: bool = False,
    io_manager_key: str = "io_manager",
) -> AssetChecksDefinition:
    """An asset check warning when column means moved versus the previous materialization.

    Current stats come from the loaded DataFrame; previous stats from `stats_metadata_key` in the
    metadata of the materialization before the latest one (same partition when partitioned),
    which the asset records with `style_stats_metadata`. Without a previous version it passes.
    ``max_shift_in_std`` may be a function of the check context, e.g. reading a resource.
    ``read_columns_only``: read only ``columns`` of the stored asset (see
    ``build_gx_asset_check``'s ``columns``).
    """
    key = _asset_key(asset)
    check_name = _check_name(key, name)
    projected = list(columns) if read_columns_only else None

    def _check(context: AssetCheckExecutionContext, **inputs: Any) -> AssetCheckResult:
        df = _checked_frame(context, inputs, key, projected, io_manager_key, to_frame, check_name)
        current = column_stats(df, columns)
        previous = _previous_stats(context, key, stats_metadata_key)
        if previous is None:
            return AssetCheckResult(
                passed=True,
                severity=severity,
                description="no previous materialization with stats: nothing to compare",
                metadata={"current_stats": MetadataValue.json(current)},
            )
        bound = max_shift_in_std(context) if callable(max_shift_in_std) else max_shift_in_std
        results = feature_drift(previous, current, max_shift_in_std=bound, columns=columns)
        return drift_check_result(results, severity=severity, max_shift_in_std=bound)

    _check.__signature__ = _signature(None, projected)  # type: ignore[attr-defined]
    return _decorate(
        _check,
        key=key,
        check_name=check_name,
        description=description or f"Mean of {', '.join(columns)} within a few previous stds.",
        blocking=blocking,
        partitions_def=partitions_def,
        additional_ins=None,
        required_resource_keys=_with_loader(required_resource_keys, projected, io_manager_key),
    )


def gx_check_result(
    outcome: ValidationOutcome,
    *,
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
    row_count: int | None = None,
) -> AssetCheckResult:
    """An `AssetCheckResult` with observed values, bounds and verdicts as metadata."""
    metadata: dict[str, Any] = {
        "expectations": MetadataValue.json(outcome.to_dict()),
        "summary": MetadataValue.md(outcome.to_markdown()),
        "n_failed": len(outcome.failed),
    }
    if row_count is not None:
        metadata["row_count"] = row_count
    for result in outcome.results:
        if _is_number(result.observed_value):
            metadata[f"observed_{result.label}"] = float(result.observed_value)
        for bound in ("min_value", "max_value"):
            if _is_number(result.kwargs.get(bound)):
                metadata[f"{bound[:3]}_{result.label}"] = float(result.kwargs[bound])
        for key in FIGURE_ROWS_KEYS:  # how many rows a figure is computed on (figure_rows)
            if _is_number(result.meta.get(key)):
                metadata[f"{key}_{result.label}"] = result.meta[key]
    failed = [r.label for r in outcome.failed]
    description = (
        f"all {len(outcome.results)} expectations passed"
        if outcome.success
        else f"{len(failed)} of {len(outcome.results)} failed: {', '.join(failed)}"
    )
    return AssetCheckResult(
        passed=outcome.success, severity=severity, metadata=metadata, description=description
    )


def drift_check_result(
    results: Sequence[DriftResult],
    *,
    severity: AssetCheckSeverity = AssetCheckSeverity.WARN,
    max_shift_in_std: float = DEFAULT_MAX_SHIFT_IN_STD,
) -> AssetCheckResult:
    """An `AssetCheckResult` failing when any column drifted, with per-column shifts."""
    drifted = [r.column for r in results if r.drifted]
    lines = ["| column | previous mean | current mean | shift (std) | drifted |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for r in results:
        lines.append(
            f"| {r.column} | {_fmt(r.previous_mean)} | {_fmt(r.current_mean)} "
            f"| {_fmt(r.shift_in_std)} | {'**yes**' if r.drifted else 'no'} |"
        )
    metadata: dict[str, Any] = {
        "drift": MetadataValue.json([r.to_dict() for r in results]),
        "summary": MetadataValue.md("\n".join(lines)),
        "max_shift_in_std": max_shift_in_std,
    }
    for r in results:
        if r.shift_in_std is not None and r.shift_in_std != float("inf"):
            metadata[f"shift_in_std_{r.column}"] = float(r.shift_in_std)
    return AssetCheckResult(
        passed=not drifted,
        severity=severity,
        metadata=metadata,
        description=f"drifted: {', '.join(drifted)}" if drifted else "no drift",
    )


def style_stats_metadata(
    df: pd.DataFrame, columns: Sequence[str] = STYLE_METRICS
) -> dict[str, MetadataValue]:
    """Materialization metadata entry that the drift check reads as the previous stats."""
    return {STYLE_STATS_METADATA_KEY: MetadataValue.json(column_stats(df, columns))}


# --------------------------------------------------------------------------- internals


def _asset_key(asset: AssetTarget) -> AssetKey:
    if isinstance(asset, AssetsDefinition | AssetSpec | SourceAsset):
        return asset.key
    return AssetKey.from_coercible(asset)


def _check_name(key: AssetKey, name: str) -> str:
    prefix = f"{key.path[-1]}_"
    return name if name.startswith(prefix) else prefix + name


def _signature(
    additional_ins: Mapping[str, AssetIn] | None, columns: Sequence[str] | None
) -> inspect.Signature:
    """`(context, asset_value, *additional_ins)`: Dagster maps the extra param to the asset.
    With ``columns`` there is no ``asset_value``: the asset is a dependency, read by the check."""
    names = [*([] if columns is not None else [_ASSET_PARAM]), *(additional_ins or {})]
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter("context", kind, annotation=AssetCheckExecutionContext)]
    params += [inspect.Parameter(n, kind) for n in names]
    return inspect.Signature(params, return_annotation=AssetCheckResult)


def _decorate(
    fn: Callable[..., AssetCheckResult],
    *,
    key: AssetKey,
    check_name: str,
    description: str,
    blocking: bool,
    partitions_def: PartitionsDefinition | None,
    additional_ins: Mapping[str, AssetIn] | None,
    required_resource_keys: set[str] | None,
) -> AssetChecksDefinition:
    with warnings.catch_warnings():
        # partitioned checks are a Dagster preview feature; using it here is deliberate
        warnings.simplefilter("ignore", PreviewWarning)
        return asset_check(
            asset=key,
            name=check_name,
            description=description,
            blocking=blocking,
            additional_ins=dict(additional_ins or {}),
            required_resource_keys=required_resource_keys,
            partitions_def=partitions_def,
        )(fn)


def _with_loader(
    keys: set[str] | None, columns: Sequence[str] | None, io_manager_key: str
) -> set[str] | None:
    """The check's resource keys, with the IO manager that reads the columns when projected."""
    if columns is None:
        return keys
    return {*(keys or set()), io_manager_key}


def _checked_frame(
    context: AssetCheckExecutionContext,
    inputs: dict[str, Any],
    key: AssetKey,
    columns: Sequence[str] | None,
    io_manager_key: str,
    to_frame: Callable[[Any], pd.DataFrame] | None,
    check_name: str,
) -> pd.DataFrame:
    """The checked frame: the loaded asset input, or only ``columns`` of the stored asset."""
    if columns is None:
        return _as_frame(inputs.pop(_ASSET_PARAM), to_frame, check_name)
    read = _stored_reader(context, key, columns, io_manager_key, "read_columns", check_name)
    return _as_frame(read(columns), to_frame, check_name)


def _batches(
    context: AssetCheckExecutionContext,
    inputs: dict[str, Any],
    key: AssetKey,
    columns: Sequence[str] | None,
    io_manager_key: str,
    to_frame: Callable[[Any], pd.DataFrame] | None,
    check_name: str,
) -> tuple[Batches, list[str]]:
    """A reader of the checked rows, a batch at a time, and their columns: the loaded input as
    one batch, or ``columns`` of the stored asset read by row group (on every call: for the
    codes, then for their examples)."""
    if columns is None:
        frame = _as_frame(inputs.pop(_ASSET_PARAM), to_frame, check_name)
        return frame_batches(frame), list(frame.columns)
    read = _stored_reader(context, key, columns, io_manager_key, "read_batches", check_name)
    return read, list(columns)


def _stored_reader(
    context: AssetCheckExecutionContext,
    key: AssetKey,
    columns: Sequence[str],
    io_manager_key: str,
    method: str,
    check_name: str,
) -> Callable[[Sequence[str]], Any]:
    """``names -> manager.<method>(asset, partition, names)`` for the checked asset (partition);
    ``TypeError`` when the IO manager has no such method."""
    manager = getattr(context.resources, io_manager_key)
    reader = getattr(manager, method, None)
    if reader is None:
        raise TypeError(
            f"check {check_name} reads columns {list(columns)} but the IO manager "
            f"{io_manager_key!r} ({type(manager).__name__}) has no {method}"
        )
    partition = context.partition_key if context.has_partition_key else None
    return lambda names: reader(key, partition, list(names))


def _as_frame(
    value: Any, to_frame: Callable[[Any], pd.DataFrame] | None, check_name: str
) -> pd.DataFrame:
    import pandas as pd

    df = to_frame(value) if to_frame is not None else value
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"check {check_name} needs a pandas DataFrame, the IO manager loaded "
            f"{type(value).__name__}; pass to_frame= to convert it"
        )
    return df


def _previous_stats(
    context: AssetCheckExecutionContext, key: AssetKey, metadata_key: str
) -> Mapping[str, Any] | None:
    """Stats recorded by the newest materialization before the latest (the checked) one."""
    partitions = [context.partition_key] if context.has_partition_key else None
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=partitions), limit=_PREVIOUS_LOOKBACK
    ).records
    for record in records[1:]:
        materialization = record.asset_materialization
        entry = materialization.metadata.get(metadata_key) if materialization else None
        if entry is not None and isinstance(entry.value, Mapping):
            return entry.value
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
