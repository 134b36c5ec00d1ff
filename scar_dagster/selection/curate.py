"""One selection run end to end: pool -> decisions -> version -> SQL -> exports -> report.

``curate`` orchestrates phases; each leaves only what the next needs, and between phases
``memory.release_unused_memory`` gives the pages freed so far back to the OS (so the next
phase's peak does not land on them):

1. the pairs' key columns, and which row is the first copy of every id
   (``outside_pool.cross_source_duplicates``);
2. the texts' lookup over those rows (``inputs.pool_texts``): in memory, or spooled to disk
   (``SelectionRun``); then the pool's keys (``pool.pool_keys``), sorted by id;
3. the features, then the scores, joined into the text-free pool (``pool``);
4. every pool row decided as arrays (``decisions.decide``), then the perplexity of what the
   report and the style gate read (``perplexity.read_perplexity``: after the decisions, which
   never read it);
5. the version, the decisions written to SQL a chunk at a time, the report, and the subset
   table written and exported a chunk at a time, its texts read through the lookup.

What stays O(pool) in memory (narrow columns, no texts): the pool frame sorted by id (ids,
sources, scores, input positions, the degenerate flag and the 4 style metrics), ``decide``'s
numpy arrays over pool rows (visiting order, reason code, related row, rank, selected flag, and
while the filters run the 16-byte exact-dedup digests) and the LSH band keys (``8 * bands``
bytes per pair). The selected rows' ids, scores and metrics are O(subset).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from scar_dagster.memory import release_unused_memory
from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection.cutoff import max_rows
from scar_dagster.selection.decisions import (
    PoolDecisions,
    decide,
    decision_frames,
    decisions_frame,
)
from scar_dagster.selection.export import export_report
from scar_dagster.selection.inputs import (
    Parts,
    PoolTexts,
    feature_tables,
    pair_keys,
    pool_texts,
)
from scar_dagster.selection.outside_pool import cross_source_duplicates, upstream_decisions
from scar_dagster.selection.params import ScoredBy, SelectionParams, SelectionRun
from scar_dagster.selection.perplexity import PerplexityReads, StyleFigures, read_perplexity
from scar_dagster.selection.pool import (
    pool_keys,
    score_tables,
    selector_score_tables,
    with_features,
    with_scores,
)
from scar_dagster.selection.report import (
    SelectionReport,
    build_report,
    random_reference,
    score_histogram_png,
)
from scar_dagster.selection.subset import subset_chunks, write_subset
from scar_dagster.selection.texts import TextLookup
from scar_dagster.selection.version import subset_version
from scar_dagster.storage import tables
from scar_dagster.storage.stores import BlobStore
from scar_dagster.style.consistency import style_consistency

SUBSET_FILE = "selected_subset.parquet"


@dataclass(frozen=True)
class CurationResult:
    """The subset of one version and everything needed to show and check it.

    ``subset_file`` (``SUBSET_COLUMNS`` and the style metrics, in rank order) is in the folder
    the caller gave ``curate``; every input row's decision is in ``selection_decisions``
    (``storage.tables.read_decisions(engine, version)``).
    """

    version: str
    subset_file: Path
    subset_head: pd.DataFrame  # the first rows, for previews
    subset_rows: int
    uri: str
    report_uri: str
    report: SelectionReport
    pool_stats: dict[str, Any]
    max_rows: int
    histogram_png: bytes
    reason_counts: dict[str, int]
    perplexity: dict[str, Any]  # StyleFigures.to_dict(): which rows the perplexity is read on
    path: str  # where the texts were read from: memory or streaming

    @property
    def subset(self) -> pd.DataFrame:
        """The whole subset table, read from ``subset_file``."""
        return pd.read_parquet(self.subset_file)


def curate(
    *,
    pairs: pd.DataFrame | Parts,
    quarantine: pd.DataFrame,
    features: pd.DataFrame | Parts,
    params: SelectionParams,
    engine: Any,
    store: BlobStore,
    prefix: str,
    folder: Path,
    ranker_version: str | None = None,
    scored_by: ScoredBy | None = None,
    log: Any = None,
    run: SelectionRun | None = None,
    texts: TextLookup | None = None,
    perplexity: PerplexityReads | None = None,
) -> CurationResult:
    """Select from every kept pair scored by ``ranker_version`` (or, ``scored_by``, by any
    selector: give one of the two); explain every input row.

    ``pairs`` and ``features`` are frames or ``{partition key: ParquetPart}`` (read by
    columns: keys, features and texts apart). The subset file is written into ``folder`` (the
    caller owns it); exports go to ``store`` under ``<prefix>/<version>``. ``log`` (e.g.
    Dagster's ``context.log``) gets progress lines of the long filters. ``run`` says where
    texts are read from (default: auto); ``texts`` replaces that lookup. ``perplexity`` says
    which perplexities the report and the gate read and how they are fetched (default: every
    row's, as the features give them).
    """
    if (ranker_version is None) == (scored_by is None):
        raise ValueError("curate needs one of ranker_version or scored_by")
    result = _curated(
        pairs=pairs,
        quarantine=quarantine,
        features=features,
        scored_by=scored_by or ScoredBy("scar", str(ranker_version)),
        params=params,
        engine=engine,
        log=log,
        run=run or SelectionRun(),
        texts=texts,
        reads=perplexity or PerplexityReads(mode="all"),
        store=store,
        prefix=prefix,
        folder=folder,
    )
    release_unused_memory()  # the run's pool and decisions are gone: the caller runs on top
    return result


def _curated(
    *,
    pairs: pd.DataFrame | Parts,
    quarantine: pd.DataFrame,
    features: pd.DataFrame | Parts,
    scored_by: ScoredBy,
    params: SelectionParams,
    engine: Any,
    log: Any,
    run: SelectionRun,
    texts: TextLookup | None,
    reads: PerplexityReads,
    **publish: Any,
) -> CurationResult:
    """``curate``'s phases (``publish``: ``_publish``'s store, prefix and folder); what they
    hold is freed when this returns."""
    pool, copies, opened, streaming = _keys_and_texts(pairs, run, texts)
    with opened as lookup:
        release_unused_memory()  # the keys as read
        pool = with_features(pool, feature_tables(features))
        release_unused_memory()  # the feature tables, before the scores are read
        pool, unscored = with_scores(pool, _score_tables(engine, scored_by, run.chunk_rows))
        release_unused_memory()  # the joins' tables, before the filters' state
        decided = decide(pool, lookup, params, log, chunk_rows=run.chunk_rows)
        release_unused_memory()  # the filters' state (digests, band keys)
        random = random_reference(decided, params.seed)
        pool, figures = read_perplexity(pool, decided.chosen, random, lookup, reads)
        result = _publish(
            pool,
            decided,
            figures,
            [unscored, copies, upstream_decisions(quarantine)],
            lookup,
            scored_by=scored_by,
            params=params,
            engine=engine,
            chunk_rows=run.chunk_rows,
            **publish,
        )
    return CurationResult(**result, path="streaming" if streaming else "memory")


def _score_tables(engine: Any, scored_by: ScoredBy, chunk_rows: int) -> Any:
    """The score tables of ``scored_by``: the ranker's or another selector's."""
    if scored_by.from_ranker:
        return score_tables(engine, scored_by.version, chunk_rows)
    return selector_score_tables(engine, scored_by.version, chunk_rows)


def _keys_and_texts(
    pairs: pd.DataFrame | Parts, run: SelectionRun, texts: TextLookup | None
) -> tuple[pd.DataFrame, pd.DataFrame, PoolTexts, bool]:
    """The pool's keys (the first copy of every id), the later copies' decisions, the pool's
    texts (to be entered) and whether they stream. The texts are opened (maybe spooled)
    before the keys are sorted by id, while the keys as read are still held."""
    keys = pair_keys(pairs)
    kept, copies = cross_source_duplicates(keys)
    streaming = run.streams(len(kept))
    opened = pool_texts(pairs, kept, spool=streaming, given=texts)
    release_unused_memory()  # the spooled batches, before the keys are sorted
    try:
        return pool_keys(keys, kept), copies, opened, streaming
    except BaseException:
        with opened:  # removes a spool file
            raise


def _publish(
    pool: pd.DataFrame,
    decided: PoolDecisions,
    figures: StyleFigures,
    others: Sequence[pd.DataFrame],
    texts: TextLookup,
    *,
    scored_by: ScoredBy,
    params: SelectionParams,
    engine: Any,
    store: BlobStore,
    prefix: str,
    folder: Path,
    chunk_rows: int,
) -> dict[str, Any]:
    """Version, SQL decisions, report, subset file and exports of a decided pool: the fields
    of its ``CurationResult`` but the path."""
    chosen = decisions_frame(pool, decided, decided.selected_rows)  # in rank order
    ranker_version = scored_by.version
    version = subset_version(chosen["id"], ranker_version, params)
    previous = _previous_subset(engine, version)
    tables.write_decisions(
        engine,
        version,
        itertools.chain(decision_frames(pool, decided), others),
        {"ranker_version": ranker_version, "config": params.to_dict()},
    )
    report = build_report(pool, decided, version, figures=figures, previous=previous)
    if scored_by.reason or not scored_by.from_ranker:  # what ranked the pool, and why
        report = replace(report, notes=[scored_by.note(), *report.notes])
    png = score_histogram_png(pool, decided)
    metrics = _subset_metrics(pool, decided, figures)
    chunks = subset_chunks(chosen, metrics, texts, chunk_rows)
    written = write_subset(chunks, Path(folder) / SUBSET_FILE, store, prefix, version)
    report_key = export_report(store, prefix, version, report.to_markdown(), png, written.export)
    return {
        "version": version,
        "subset_file": written.path,
        "subset_head": written.head,
        "subset_rows": written.rows,
        "uri": written.export.directory,
        "report_uri": store.uri(report_key),
        "report": report,
        "pool_stats": style_consistency(figures.metrics(pool, "pool"), STYLE_METRICS, errors=True),
        "max_rows": max_rows(params, int(decided.eligible.sum())),
        "histogram_png": png,
        "reason_counts": _reason_counts(decided, others),
        "perplexity": figures.to_dict(),
    }


def _subset_metrics(
    pool: pd.DataFrame, decided: PoolDecisions, figures: StyleFigures
) -> pd.DataFrame:
    """``id`` and the style metrics of the selected rows in rank order (perplexity where it
    enters the subset's figure)."""
    rows = decided.selected_rows
    metrics = pool.iloc[rows][["id", *STYLE_METRICS]].copy()
    metrics.loc[~figures.perplexity["subset"][rows], "perplexity"] = float("nan")
    return metrics


def _previous_subset(engine: Any, current: str) -> pd.DataFrame | None:
    """The selected rows of the latest other subset version (None: there is none)."""
    versions = tables.list_subset_versions(engine)
    older = versions[versions["subset_version"] != current]
    if older.empty:
        return None
    return tables.read_decisions(engine, str(older["subset_version"].iloc[-1]), selected_only=True)


def _reason_counts(decided: PoolDecisions, frames: Sequence[pd.DataFrame]) -> dict[str, int]:
    """Decisions per reason: the pool's and those of ``frames``, by reason name."""
    counts: Counter[str] = Counter(decided.reason_counts())
    for frame in frames:
        counts.update({str(k): int(v) for k, v in frame["reason"].value_counts().items()})
    return dict(sorted(counts.items()))
