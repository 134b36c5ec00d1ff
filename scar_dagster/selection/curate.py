"""One selection run end to end: pool -> decisions -> version -> SQL -> exports -> report.

Two paths give the same decisions (hence the same subset version): ``memory`` joins every
text into one candidate frame and runs ``select_pairs``; ``streaming`` walks the scores in SQL
order and reads texts one chunk at a time (``streaming_decisions``). ``auto`` streams when the
pool has at least ``streaming_min_rows`` kept pairs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

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
from scar_dagster.selection.streaming import streaming_decisions
from scar_dagster.selection.texts import DEFAULT_CHUNK_ROWS, TextLookup
from scar_dagster.storage import tables
from scar_dagster.storage.stores import BlobStore
from scar_dagster.style.consistency import style_consistency

SelectionMode = Literal["auto", "memory", "streaming"]
SELECTION_MODES: tuple[SelectionMode, ...] = ("auto", "memory", "streaming")
DEFAULT_STREAMING_MIN_ROWS = 200_000


@dataclass(frozen=True)
class SelectionRun:
    """How a selection executes (not what it selects: it is not part of the subset version)."""

    mode: SelectionMode = "auto"
    streaming_min_rows: int = DEFAULT_STREAMING_MIN_ROWS
    chunk_rows: int = DEFAULT_CHUNK_ROWS

    def __post_init__(self) -> None:
        if self.mode not in SELECTION_MODES:
            raise ValueError(f"mode must be one of {SELECTION_MODES}, got {self.mode!r}")
        for name in ("streaming_min_rows", "chunk_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")

    def streams(self, n_rows: int) -> bool:
        """True when a pool of ``n_rows`` kept pairs takes the streaming path."""
        return self.mode == "streaming" or (
            self.mode == "auto" and n_rows >= self.streaming_min_rows
        )


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
    path: str = "memory"  # the path taken: memory or streaming


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
    run: SelectionRun | None = None,
    texts: TextLookup | None = None,
) -> CurationResult:
    """Select from every kept pair scored by ``ranker_version``; explain every input row.

    ``log`` (e.g. Dagster's ``context.log``) gets progress lines of the long filters. ``run``
    picks the path (default: auto); ``texts`` serves the streaming path's texts (default: a
    lookup over ``pairs``).
    """
    run = run or SelectionRun()
    unique_pairs, cross_dups = cross_source_duplicates(pairs)
    streaming = run.streams(len(unique_pairs))
    if streaming:
        streamed = streaming_decisions(
            engine,
            ranker_version,
            unique_pairs,
            features,
            params,
            texts,
            chunk_rows=run.chunk_rows,
            log=log,
        )
        candidates, unscored, decisions = streamed.candidates, streamed.unscored, streamed.decisions
    else:
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
        path="streaming" if streaming else "memory",
    )
