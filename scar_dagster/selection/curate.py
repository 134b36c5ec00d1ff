"""One selection run end to end: pool -> decisions -> version -> SQL -> exports -> report.

Two paths give the same decisions (hence the same subset version): ``memory`` joins every
text into one candidate frame and decides it as ``select_pairs`` does (``prepare_pool``, then
``decide_rows``); ``streaming`` builds a text-free pool with the scores in SQL order
(``streaming_pool``) and reads texts one chunk at a time. ``auto`` streams when the
pool has at least ``streaming_min_rows`` kept pairs.

Inputs are frames or lazy Parquet parts (``{partition key: ParquetPart}``, as the
``selected_subset`` asset receives them). With parts, the memory path reads them whole; the
streaming path reads only ``id, source, origin_file, origin_line`` of the pairs and the
``id, degenerate_reason`` and style-metric columns of the features, and streams the texts
once, a row group at a time, into a temporary SQLite file (``SpooledTexts``) from which the
walk fetches each chunk and each block of near-duplicate confirmations, and the export the
selected rows' texts.

Still O(pool) in memory on the streaming path (narrow columns, no texts): the pool frame,
sorted by id (ids, sources, scores, input positions, the degenerate flag and the 4 style
metrics), ``decide_rows``' numpy arrays over pool rows (rank order, reason code, related row,
rank, selected flag, and while the walk runs the 16-byte exact-dedup digests) and the LSH band
keys (``8 * bands`` bytes per pair). The pool is built from narrow id-sorted keys, then the
features, then the scores, each dropped once joined; decisions are made into frames and
written to SQL ``DECISION_CHUNK_ROWS`` at a time, and the report is computed from the codes
and masks, so no decision frame of the whole pool exists. The selected rows' ids, scores and
metrics are O(subset); their texts are read, exported and written to the subset file one
chunk at a time.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from scar_dagster.memory import release_unused_memory, released
from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection.candidates import (
    build_candidates,
    cross_source_duplicates,
    keys_by_id,
    upstream_decisions,
)
from scar_dagster.selection.cutoff import rows_for_ratio
from scar_dagster.selection.export import export_subset, subset_table
from scar_dagster.selection.report import SelectionReport, build_pool_report, pool_histogram_png
from scar_dagster.selection.select import (
    PoolDecisions,
    SelectionParams,
    decide_rows,
    decisions_frame,
    prepare_pool,
    subset_version,
)
from scar_dagster.selection.streaming import streaming_pool
from scar_dagster.selection.texts import DEFAULT_CHUNK_ROWS, SpooledTexts, TextLookup, frame_lookup
from scar_dagster.storage import tables
from scar_dagster.storage.frame_writer import FrameParquetWriter
from scar_dagster.storage.parquet_parts import ParquetPart, parts_in_order, read_parts
from scar_dagster.storage.stores import BlobStore
from scar_dagster.style.consistency import style_consistency

SelectionMode = Literal["auto", "memory", "streaming"]
SELECTION_MODES: tuple[SelectionMode, ...] = ("auto", "memory", "streaming")
DEFAULT_STREAMING_MIN_ROWS = 200_000
PAIR_KEY_COLUMNS = ("id", "source", "origin_file", "origin_line")
FEATURE_COLUMNS = ("id", "degenerate_reason", *STYLE_METRICS)
TEXT_COLUMNS = ("id", "instruction", "response")
Parts = Mapping[str, ParquetPart | None]
DECISION_CHUNK_ROWS = 50_000  # pool decisions made into a frame and written at a time


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
    """The subset of one version and everything needed to show and check it.

    The subset table (``SUBSET_COLUMNS`` and the style metrics, in rank order) is a local
    Parquet file written chunk by chunk, kept while this result lives; ``subset`` reads it.
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
    path: str = "memory"  # the path taken: memory or streaming
    _engine: Any = field(default=None, repr=False, compare=False)  # holds the decisions
    _folder: Any = field(default=None, repr=False, compare=False)  # owns subset_file

    @property
    def subset(self) -> pd.DataFrame:
        """The whole subset table, read from ``subset_file``."""
        return pd.read_parquet(self.subset_file)

    @property
    def decisions(self) -> pd.DataFrame:
        """Every input row's decision, read back from ``selection_decisions`` (the run itself
        never holds them all: the pool's are written as they are made into frames)."""
        return tables.read_decisions(self._engine, self.version)


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


def _texts_frame(lookup: TextLookup, ids: list[str]) -> pd.DataFrame:
    """``id, instruction, response`` of ``ids`` from a lookup (the subset's texts)."""
    found = lookup(ids)
    return pd.DataFrame(
        {
            "id": list(found),
            "instruction": [t.instruction for t in found.values()],
            "response": [t.response for t in found.values()],
        },
        columns=list(TEXT_COLUMNS),
        dtype="str",  # typed when empty: an empty subset merges on str ids
    )


def spool_texts(parts: Parts, batch_rows: int = 10_000) -> SpooledTexts:
    """Stream the texts of every part (partition order) into a ``SpooledTexts``."""
    batches = (
        batch
        for part in parts_in_order(parts)
        for batch in part.iter_batches(list(TEXT_COLUMNS), batch_rows)
    )
    return SpooledTexts(batches)


def curate(
    *,
    pairs: pd.DataFrame | Parts,
    quarantine: pd.DataFrame,
    features: pd.DataFrame | Parts,
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

    ``pairs`` and ``features`` are frames or ``{partition key: ParquetPart}`` (read lazily on
    the streaming path). ``log`` (e.g. Dagster's ``context.log``) gets progress lines of the
    long filters. ``run`` picks the path (default: auto); ``texts`` serves the streaming path's
    texts (default: a lookup over ``pairs``, or a spool of the parts' texts).
    """
    run = run or SelectionRun()
    decided = _decided(pairs, features, ranker_version, params, engine, log, run, texts)
    # the pairs' keys and the features read for deciding are gone here: only the pool is kept
    release_unused_memory()
    try:
        return _finish(
            decided,
            quarantine=quarantine,
            ranker_version=ranker_version,
            params=params,
            engine=engine,
            store=store,
            prefix=prefix,
            run=run,
            texts=texts or decided.spool,
        )
    finally:
        if decided.spool is not None:
            decided.spool.close()
        del decided
        release_unused_memory()  # what the asset's checks run on top of


@dataclass(frozen=True)
class _Decided:
    """What deciding leaves for the rest of a run: the pool and its decisions as arrays."""

    pool: pd.DataFrame  # prepare_pool's: sorted by id, with the style metrics
    rows: PoolDecisions  # every pool row's decision
    unscored: pd.DataFrame  # select_unscored decisions
    cross_dups: pd.DataFrame  # dedup_exact decisions of ids repeated across sources
    pair_texts: pd.DataFrame | None  # the unique pairs when they hold texts, else None
    streaming: bool
    spool: SpooledTexts | None  # the texts spooled from lazy parts (closed by the caller)


def _decided(
    pairs: pd.DataFrame | Parts,
    features: pd.DataFrame | Parts,
    ranker_version: str,
    params: SelectionParams,
    engine: Any,
    log: Any,
    run: SelectionRun,
    texts: TextLookup | None,
) -> _Decided:
    """Read what the chosen path needs and decide every pool row."""
    spool, unique_pairs = None, None
    if not isinstance(pairs, pd.DataFrame):
        # the keys decide the path; the memory path then reads the parts whole
        unique_pairs, cross_dups = cross_source_duplicates(read_parts(pairs, PAIR_KEY_COLUMNS))
        if run.streams(len(unique_pairs)):
            spool = None if texts is not None else spool_texts(pairs)
            release_unused_memory()  # the spooled batches' pages
        else:
            pairs, unique_pairs = read_parts(pairs), None
    if unique_pairs is None:
        unique_pairs, cross_dups = cross_source_duplicates(pairs)
    streaming = run.streams(len(unique_pairs))
    pair_texts = unique_pairs if "instruction" in unique_pairs.columns else None
    try:
        if streaming:
            lookup = texts or spool or frame_lookup(unique_pairs)
            # the narrow id-sorted keys, then the features, then the scores: each input is
            # dropped once joined, so the pool never coexists with all of them
            pool_keys = keys_by_id(unique_pairs)  # ids unique across sources now
            del unique_pairs
            read_features = released(partial(_part_frames, features))
            candidates, unscored = streaming_pool(
                engine, ranker_version, pool_keys, read_features, run.chunk_rows
            )
            del pool_keys, features
            release_unused_memory()  # the joins' pages
            pool = prepare_pool(candidates, with_texts=False)
            del candidates
            release_unused_memory()  # the inputs' freed pages, before the walk's state
            chunk_rows = run.chunk_rows
        else:
            scores = tables.read_scores(engine, ranker_version)
            candidates, unscored = build_candidates(unique_pairs, _frame(features), scores)
            del scores
            pool = prepare_pool(candidates)
            del candidates
            lookup, chunk_rows = frame_lookup(pool), max(1, len(pool))
        rows = decide_rows(pool, lookup, params, log, chunk_rows=chunk_rows)
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    return _Decided(
        pool=pool,
        rows=rows,
        unscored=unscored,
        cross_dups=cross_dups,
        pair_texts=pair_texts,
        streaming=streaming,
        spool=spool,
    )


def _frame(frame: pd.DataFrame | Parts, columns: Sequence[str] = FEATURE_COLUMNS) -> pd.DataFrame:
    """A frame as given, or the ``columns`` of lazy parts."""
    return frame if isinstance(frame, pd.DataFrame) else read_parts(frame, columns)


def _part_frames(
    frame: pd.DataFrame | Parts, columns: Sequence[str] = FEATURE_COLUMNS
) -> Iterable[pd.DataFrame]:
    """A frame as given, or the ``columns`` of lazy parts read one at a time."""
    if isinstance(frame, pd.DataFrame):
        return [frame]
    return (part.read(list(columns)) for part in parts_in_order(frame))


def _decision_frames(
    decided: _Decided, others: Sequence[pd.DataFrame], chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Every decision of a run, the pool's made ``chunk_rows`` rows at a time (in rank
    order, then the ineligible rows by id), then ``others``."""
    order = decided.rows.order
    for start in range(0, len(order), chunk_rows):
        yield decisions_frame(decided.pool, decided.rows, order[start : start + chunk_rows])
    yield from others


def _finish(
    decided: _Decided,
    *,
    quarantine: pd.DataFrame,
    ranker_version: str,
    params: SelectionParams,
    engine: Any,
    store: BlobStore,
    prefix: str,
    run: SelectionRun,
    texts: TextLookup | None,
) -> CurationResult:
    """Version, SQL decisions, exports, report and the subset file of decided rows."""
    pool, rows = decided.pool, decided.rows
    chosen_rows = rows.selected_rows
    chosen = decisions_frame(pool, rows, chosen_rows)  # the subset's decisions, in rank order
    version = subset_version(chosen["pair_id"], ranker_version, params)
    others = (decided.unscored, decided.cross_dups, upstream_decisions(quarantine))
    previous = _previous_version(engine, version)
    tables.write_decisions(
        engine,
        version,
        _decision_frames(decided, others, DECISION_CHUNK_ROWS),
        {"ranker_version": ranker_version, "config": params.to_dict()},
    )
    report = build_pool_report(
        pool,
        rows,
        subset_version=version,
        # the previous subset only (its selected rows), not every decision of that version
        previous=tables.read_decisions(engine, previous, selected_only=True) if previous else None,
        seed=params.seed,
    )
    png = pool_histogram_png(pool, rows)
    metrics = pool.iloc[chosen_rows][["id", *STYLE_METRICS]]
    chunks = _subset_chunks(chosen, metrics, decided.pair_texts, texts, run.chunk_rows)
    folder = tempfile.TemporaryDirectory(prefix="scar-subset-")
    subset_file = Path(folder.name) / "selected_subset.parquet"
    heads: list[pd.DataFrame] = []
    with FrameParquetWriter(subset_file) as writer:
        stream = writer.passing(_keeping_head(chunks, heads))
        export = export_subset(stream, store, prefix, version)
        for _ in stream:  # the chunks the export did not read (a version exported before)
            pass
    report_key = f"{prefix}/{version}/report.md"
    if export.written or not store.exists(report_key):
        store.write_bytes(report_key, report.to_markdown().encode())
        store.write_bytes(f"{prefix}/{version}/scores.png", png)
    valid = pool.loc[~pool["_degenerate"].to_numpy(dtype=bool), list(STYLE_METRICS)]
    eligible = int(rows.eligible.sum())
    return CurationResult(
        version=version,
        subset_file=subset_file,
        subset_head=heads[0],
        subset_rows=writer.rows,
        uri=export.directory,
        report_uri=store.uri(report_key),
        report=report,
        pool_stats=style_consistency(valid, STYLE_METRICS),
        max_rows=max_rows(params, eligible),
        histogram_png=png,
        reason_counts=_reason_counts(rows, others),
        path="streaming" if decided.streaming else "memory",
        _engine=engine,
        _folder=folder,
    )


def _reason_counts(rows: PoolDecisions, frames: Sequence[pd.DataFrame]) -> dict[str, int]:
    """Decisions per reason: the pool's and those of ``frames``, by reason name."""
    counts: Counter[str] = Counter(rows.reason_counts())
    for frame in frames:
        counts.update({str(k): int(v) for k, v in frame["reason"].value_counts().items()})
    return dict(sorted(counts.items()))


def _subset_chunks(
    chosen: pd.DataFrame,
    metrics: pd.DataFrame,
    pair_texts: pd.DataFrame | None,
    texts: TextLookup | None,
    chunk_rows: int,
) -> Iterator[pd.DataFrame]:
    """The subset table in rank order, ``chunk_rows`` rows at a time (at least one chunk, maybe
    empty): texts from ``pair_texts`` when given, else read chunk by chunk from ``texts``."""
    if pair_texts is not None or texts is None:
        whole = subset_table(chosen, pair_texts).merge(metrics, on="id", how="left")
        for start in range(0, max(len(whole), 1), chunk_rows):
            yield whole.iloc[start : start + chunk_rows]
        return
    for start in range(0, max(len(chosen), 1), chunk_rows):
        part = chosen.iloc[start : start + chunk_rows]
        with_texts = _texts_frame(texts, part["pair_id"].tolist())
        # ``metrics`` has the rows of ``chosen`` in its order: the chunk's rows are its slice
        rows = metrics.iloc[start : start + chunk_rows]
        yield subset_table(part, with_texts).merge(rows, on="id", how="left")


def _keeping_head(
    chunks: Iterable[pd.DataFrame], heads: list[pd.DataFrame], rows: int = 5
) -> Iterator[pd.DataFrame]:
    """``chunks`` unchanged; the first ``rows`` rows of the first chunk are appended to
    ``heads`` (the preview, without reading the file's first row group back)."""
    for chunk in chunks:
        if not heads:
            heads.append(chunk.head(rows).reset_index(drop=True).copy())
        yield chunk
