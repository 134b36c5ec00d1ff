"""Metadata helpers: what every materialization shows in the Dagster UI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from dagster import MetadataValue, TableColumn, TableSchema

_DTYPE_NAMES = {"object": "string", "str": "string", "bool": "boolean"}


def column_schema(frame: pd.DataFrame) -> TableSchema:
    """A Dagster table schema from a DataFrame's dtypes."""
    return TableSchema(
        columns=[
            TableColumn(name=str(name), type=_DTYPE_NAMES.get(str(dtype), str(dtype)))
            for name, dtype in frame.dtypes.items()
        ]
    )


def markdown_preview(frame: pd.DataFrame, columns: Sequence[str], rows: int = 5) -> str:
    """A markdown table of the first rows, long texts cut to 80 characters."""
    head = frame.loc[:, [c for c in columns if c in frame.columns]].head(rows).copy()
    for name in head.columns:
        if head[name].dtype == object or str(head[name].dtype).startswith("str"):
            head[name] = head[name].map(_short)
    if head.empty:
        return "_no rows_"
    return head.to_markdown(index=False)


def _short(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = value.replace("\n", " ⏎ ").replace("|", "\\|")
    return value if len(value) <= 80 else value[:79] + "…"


def frame_metadata(frame: pd.DataFrame, preview_columns: Sequence[str]) -> dict[str, Any]:
    """Row count, column schema and a preview for a DataFrame output."""
    return {
        "dagster/row_count": len(frame),
        "dagster/column_schema": column_schema(frame),
        "preview": MetadataValue.md(markdown_preview(frame, preview_columns)),
    }


def counts_table(counts: Mapping[str, int], key: str = "reason") -> MetadataValue:
    """A two-column markdown table of counts, e.g. quarantined rows per reason."""
    if not counts:
        return MetadataValue.md("_none_")
    lines = [f"| {key} | rows |", "| --- | ---: |"]
    lines += [f"| {name} | {count:,} |" for name, count in counts.items()]
    return MetadataValue.md("\n".join(lines))


def latest_metadata(instance: Any, asset: str, partition: str | None = None) -> dict | None:
    """Metadata values of an asset's (partition's) newest materialization, None if it has none."""
    from dagster import AssetKey, AssetRecordsFilter

    records = instance.fetch_materializations(
        AssetRecordsFilter(
            asset_key=AssetKey(asset), asset_partitions=[partition] if partition else None
        ),
        limit=1,
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
