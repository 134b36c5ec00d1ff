"""One selection run end to end: pool -> decisions -> version -> SQL -> exports -> report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection.candidates import (
    build_candidates,
    cross_source_duplicates,
    upstream_decisions,
)
from scar_dagster.selection.cutoff import rows_for_ratio
from scar_dagster.selection.export import export_subset, subset_table
from scar_dagster.selection.report import SelectionReport, build_report, score_histogram_png
from scar_dagster.selection.select import SelectionParams, select_pairs, subset_version
from scar_dagster.storage import tables
from scar_dagster.storage.stores import BlobStore
from scar_dagster.style.consistency import style_consistency


@dataclass(frozen=True)
class CurationResult:
    """The subset of one version and everything needed to show and check it."""

    version: str
    subset: pd.DataFrame
    decisions: pd.DataFrame
    uri: str
    report_uri: str
    report: SelectionReport
    pool_stats: dict[str, Any]
    max_rows: int
    histogram_png: bytes
    reason_counts: dict[str, int]


def max_rows(params: SelectionParams, eligible: int) -> int:
    """The most rows the cutoff may select from ``eligible`` pairs."""
    if params.top_k is not None:
        return min(params.top_k, eligible)
    if params.ratio is not None:
        return rows_for_ratio(eligible, params.ratio)
    return eligible


def _previous_version(engine: Any, current: str) -> str | None:
    versions = tables.list_subset_versions(engine)
    older = versions[versions["subset_version"] != current]
    return None if older.empty else str(older["subset_version"].iloc[-1])


def curate(
    *,
    pairs: pd.DataFrame,
    quarantine: pd.DataFrame,
    features: pd.DataFrame,
    ranker_version: str,
    params: SelectionParams,
    engine: Any,
    store: BlobStore,
    prefix: str,
    log: Any = None,
) -> CurationResult:
    """Select from every kept pair scored by ``ranker_version``; explain every input row.

    ``log`` (e.g. Dagster's ``context.log``) gets progress lines of the long filters.
    """
    unique_pairs, cross_dups = cross_source_duplicates(pairs)
    scores = tables.read_scores(engine, ranker_version)
    candidates, unscored = build_candidates(unique_pairs, features, scores)
    decisions = select_pairs(candidates, params, log)
    version = subset_version(
        decisions.loc[decisions["selected"], "pair_id"], ranker_version, params
    )
    explained = pd.concat(
        [decisions, unscored, cross_dups, upstream_decisions(quarantine)], ignore_index=True
    )
    previous = _previous_version(engine, version)
    tables.write_decisions(
        engine, version, explained, {"ranker_version": ranker_version, "config": params.to_dict()}
    )
    styled = candidates.rename(columns={"id": "pair_id"})
    report = build_report(
        decisions,
        styled,
        subset_version=version,
        previous=tables.read_decisions(engine, previous) if previous else None,
        seed=params.seed,
    )
    subset = subset_table(decisions, unique_pairs).merge(
        candidates[["id", *STYLE_METRICS]], on="id", how="left"
    )
    png = score_histogram_png(decisions)
    export = export_subset(subset, store, prefix, version)
    report_key = f"{prefix}/{version}/report.md"
    if export.written or not store.exists(report_key):
        store.write_bytes(report_key, report.to_markdown().encode())
        store.write_bytes(f"{prefix}/{version}/scores.png", png)
    valid = candidates[candidates["degenerate_reason"].isna()]
    eligible = int(decisions["rank"].notna().sum())
    return CurationResult(
        version=version,
        subset=subset,
        decisions=explained,
        uri=export.directory,
        report_uri=store.uri(report_key),
        report=report,
        pool_stats=style_consistency(valid, STYLE_METRICS),
        max_rows=max_rows(params, eligible),
        histogram_png=png,
        reason_counts=dict(sorted(Counter(explained["reason"]).items())),
    )
