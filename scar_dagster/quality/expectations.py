"""Great Expectations suites run on a pandas DataFrame, returning plain JSON-safe results.

Style consistency, as SCAR (arXiv 2406.10882) measures it, is a low standard deviation of TTR,
MTLD, perplexity and response length in the selected subset compared with the full pool. This
module turns such bounds into a tiny declarative spec (`ExpectationSpec`), validates a frame
against them with GX 1.x and hands back frozen dataclasses that never hold GX or numpy objects.

`great_expectations` is imported lazily inside `run_expectations`; importing this module is cheap.
"""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from scar_dagster.schema import STYLE_METRICS

if TYPE_CHECKING:
    import pandas as pd


_SHORT_KINDS = {
    "ExpectColumnStdevToBeBetween": "std",
    "ExpectColumnValuesToBeUnique": "unique",
    "ExpectColumnValuesToNotBeNull": "not_null",
    "ExpectColumnValuesToBeBetween": "in_range",
    "ExpectTableRowCountToBeBetween": "row_count",
}
_MAP_SUMMARY_KEYS = ("element_count", "unexpected_count", "unexpected_percent", "missing_count")
_PARTIAL_UNEXPECTED_LIMIT = 5


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation to run: a GX 1.x expectation class name and its keyword arguments.

    `meta` carries JSON-safe provenance of the bound (e.g. the pool std it came from); it is
    reported next to the observed value and never sent to GX.
    """

    kind: str
    kwargs: Mapping[str, Any]
    description: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Short stable name, e.g. `std_ttr`, `unique_id`, `row_count`."""
        return _label(self.kind, self.kwargs)


def _label(kind: str, kwargs: Mapping[str, Any]) -> str:
    short = _SHORT_KINDS.get(kind) or re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()
    if "column" in kwargs:
        return f"{short}_{kwargs['column']}"
    if "column_list" in kwargs:
        return "_".join([short, *map(str, kwargs["column_list"])])
    return short


def _require_bound(min_value: float | None, max_value: float | None) -> None:
    if min_value is None and max_value is None:
        raise ValueError("at least one of min_value and max_value is required")


def stdev_between(
    column: str,
    max_value: float | None,
    min_value: float | None = None,
    *,
    description: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> ExpectationSpec:
    """Sample standard deviation (ddof=1, NaN skipped) of `column` lies within the bounds."""
    _require_bound(min_value, max_value)
    return ExpectationSpec(
        "ExpectColumnStdevToBeBetween",
        {"column": column, "min_value": min_value, "max_value": max_value},
        description or f"std({column}) within [{min_value}, {max_value}]",
        dict(meta or {}),
    )


def values_unique(column: str, *, description: str | None = None) -> ExpectationSpec:
    """Every non-null value of `column` occurs once."""
    return ExpectationSpec(
        "ExpectColumnValuesToBeUnique",
        {"column": column},
        description or f"{column} has no duplicates",
    )


def values_not_null(
    column: str, mostly: float = 1.0, *, description: str | None = None
) -> ExpectationSpec:
    """At least a `mostly` fraction of `column` is not null."""
    return ExpectationSpec(
        "ExpectColumnValuesToNotBeNull",
        {"column": column, "mostly": mostly},
        description or f"{column} not null (mostly={mostly})",
    )


def values_between(
    column: str,
    min_value: float | None = None,
    max_value: float | None = None,
    *,
    mostly: float = 1.0,
    description: str | None = None,
) -> ExpectationSpec:
    """At least a `mostly` fraction of the non-null values of `column` lie within the bounds."""
    _require_bound(min_value, max_value)
    return ExpectationSpec(
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": min_value, "max_value": max_value, "mostly": mostly},
        description or f"{column} within [{min_value}, {max_value}] (mostly={mostly})",
    )


def row_count_between(
    min_value: int | None = None, max_value: int | None = None, *, description: str | None = None
) -> ExpectationSpec:
    """The table has between `min_value` and `max_value` rows (either may be open)."""
    _require_bound(min_value, max_value)
    return ExpectationSpec(
        "ExpectTableRowCountToBeBetween",
        {"min_value": min_value, "max_value": max_value},
        description or f"row count within [{min_value}, {max_value}]",
    )


def style_consistency_specs(
    pool_std: Mapping[str, float],
    *,
    max_ratio: float = 0.8,
    absolute_max: Mapping[str, float] | None = None,
    columns: Sequence[str] = STYLE_METRICS,
) -> list[ExpectationSpec]:
    """Style-consistency gate: std of each metric <= min(max_ratio * pool std, absolute max).

    SCAR's selected subsets show a markedly lower std of TTR, MTLD and perplexity than the full
    data (arXiv 2406.10882); this turns that finding into one stdev expectation per column.
    A column needs a finite pool std or an absolute bound; a column with neither raises
    `ValueError` rather than being skipped silently.
    """
    if max_ratio <= 0:
        raise ValueError(f"max_ratio must be > 0, got {max_ratio}")
    absolute_max = absolute_max or {}
    specs = []
    for column in columns:
        pool = _finite_or_none(pool_std.get(column))
        absolute = _finite_or_none(absolute_max.get(column))
        candidates = [
            b for b in (None if pool is None else max_ratio * pool, absolute) if b is not None
        ]
        if not candidates:
            raise ValueError(f"no pool std and no absolute bound for style metric {column!r}")
        bound = min(candidates)
        parts = []
        if pool is not None:
            parts.append(f"{max_ratio:g} x pool std {pool:.4g}")
        if absolute is not None:
            parts.append(f"absolute {absolute:.4g}")
        specs.append(
            stdev_between(
                column,
                max_value=bound,
                description=f"std({column}) <= {bound:.4g} = min({', '.join(parts)})",
                meta={"pool_std": pool, "max_ratio": max_ratio, "absolute_max": absolute},
            )
        )
    return specs


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation; every field is JSON-safe."""

    kind: str
    label: str
    kwargs: dict[str, Any]
    success: bool
    observed_value: Any
    description: str
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of all fields."""
        return {
            "kind": self.kind,
            "label": self.label,
            "kwargs": self.kwargs,
            "success": self.success,
            "observed_value": self.observed_value,
            "description": self.description,
            "meta": self.meta,
            "error": self.error,
        }


@dataclass(frozen=True)
class ValidationOutcome:
    """The result of a suite: overall success and one `ExpectationOutcome` per spec, in order."""

    suite_name: str
    success: bool
    results: list[ExpectationOutcome]

    @property
    def failed(self) -> list[ExpectationOutcome]:
        """The outcomes that did not succeed."""
        return [r for r in self.results if not r.success]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict, ready for `json.dumps` or Dagster's `MetadataValue.json`."""
        return {
            "suite_name": self.suite_name,
            "success": self.success,
            "n_expectations": len(self.results),
            "n_failed": len(self.failed),
            "results": [r.to_dict() for r in self.results],
        }

    def to_markdown(self) -> str:
        """Markdown table: expectation, observed value, bound, result."""
        lines = ["| expectation | observed | bound | result |", "| --- | --- | --- | --- |"]
        for r in self.results:
            observed = r.error or _format_observed(r.observed_value)
            verdict = "pass" if r.success else "**FAIL**"
            lines.append(f"| {r.label} | {observed} | {_format_bound(r.kwargs)} | {verdict} |")
        return "\n".join(lines)


def _format_observed(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict) and "unexpected_count" in value:
        return f"{value['unexpected_count']} unexpected of {value.get('element_count')}"
    return str(value).replace("|", "\\|")


def _format_bound(kwargs: Mapping[str, Any]) -> str:
    parts = []
    if kwargs.get("min_value") is not None:
        parts.append(f">= {kwargs['min_value']:.4g}")
    if kwargs.get("max_value") is not None:
        parts.append(f"<= {kwargs['max_value']:.4g}")
    if kwargs.get("mostly", 1.0) != 1.0:
        parts.append(f"mostly {kwargs['mostly']}")
    return ", ".join(parts) or "-"


def json_safe(value: Any) -> Any:
    """Recursively convert numpy/pandas scalars and containers to JSON types; NaN/inf -> None."""
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return json_safe(float(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [json_safe(v) for v in value]
    if _is_missing(value):
        return None
    return str(value)


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- running


def run_expectations(
    df: pd.DataFrame, specs: Sequence[ExpectationSpec], suite_name: str
) -> ValidationOutcome:
    """Validate `df` against `specs` with GX 1.x and return a plain, JSON-safe outcome.

    Each call uses its own ephemeral GX context and uniquely named data source, so calls are
    independent (creating an ephemeral context costs milliseconds once GX is imported). An
    expectation that raises inside GX (e.g. a missing column) fails with `error` set.
    """
    if not specs:
        return ValidationOutcome(suite_name=suite_name, success=True, results=[])
    gx = _import_gx()
    context = _ephemeral_context(gx)
    unique = f"{suite_name}-{uuid.uuid4().hex[:12]}"
    batch = (
        context.data_sources.add_pandas(name=unique)
        .add_dataframe_asset(name=unique)
        .add_batch_definition_whole_dataframe(name=unique)
        .get_batch(batch_parameters={"dataframe": df})
    )
    suite = gx.ExpectationSuite(
        name=suite_name,
        expectations=[_to_gx(gx, spec, index) for index, spec in enumerate(specs)],
    )
    result = batch.validate(suite, result_format="SUMMARY")
    by_index = {r.expectation_config.meta["spec_index"]: r for r in result.results}
    outcomes = [_to_outcome(spec, by_index.get(i)) for i, spec in enumerate(specs)]
    return ValidationOutcome(
        suite_name=suite_name,
        success=all(o.success for o in outcomes),
        results=outcomes,
    )


def _import_gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx


def _ephemeral_context(gx: Any) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _to_gx(gx: Any, spec: ExpectationSpec, index: int) -> Any:
    cls = getattr(gx.expectations, spec.kind, None)
    if cls is None:
        raise ValueError(f"unknown GX expectation kind {spec.kind!r}")
    kwargs = {k: v for k, v in spec.kwargs.items() if v is not None}
    return cls(**kwargs, meta={"spec_index": index})


def _to_outcome(spec: ExpectationSpec, result: Any) -> ExpectationOutcome:
    base = {
        "kind": spec.kind,
        "label": spec.label,
        "kwargs": json_safe(dict(spec.kwargs)),
        "description": spec.description,
        "meta": json_safe(dict(spec.meta)),
    }
    if result is None:
        return ExpectationOutcome(
            **base, success=False, observed_value=None, error="no result returned by GX"
        )
    return ExpectationOutcome(
        **base,
        success=bool(result.success),
        observed_value=_observed(result.result or {}),
        error=_error(result.exception_info or {}),
    )


def _error(info: Mapping[str, Any]) -> str | None:
    """Exception message(s) from GX's exception_info (flat, or keyed by metric id)."""
    entries = [info] if "raised_exception" in info else list(info.values())
    messages = {
        str(e.get("exception_message") or "expectation raised")
        for e in entries
        if isinstance(e, Mapping) and e.get("raised_exception")
    }
    return "; ".join(sorted(messages)) or None


def _observed(result: Mapping[str, Any]) -> Any:
    if "observed_value" in result:
        return json_safe(result["observed_value"])
    summary = {k: result[k] for k in _MAP_SUMMARY_KEYS if k in result}
    if "partial_unexpected_list" in result:
        summary["partial_unexpected_list"] = list(result["partial_unexpected_list"])[
            :_PARTIAL_UNEXPECTED_LIMIT
        ]
    return json_safe(summary) if summary else None
