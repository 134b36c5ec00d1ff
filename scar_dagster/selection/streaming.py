"""Streaming selection over the ``scored_pairs`` SQL table: texts fetched chunk by chunk.

``streaming_decisions`` is the path ``curate`` takes for a large pool: the scores come from one
SQL query read in chunks (ranked in ``decide`` by score descending, then pair id ascending, the
order of that query), the pool it decides holds ids,
sources, scores, features and input positions but no texts, and the filters read texts through
a ``TextLookup`` one chunk at a time (``select.decide``, the same code as ``select_pairs``). Every
option is supported (ratio, per-source quotas, near-dedup, keep-first) and the decisions equal
``select_pairs``' on the same pool. Texts are read in two front-to-back walks (exact dedup and
language, then the MinHash signatures), one lookup per chunk, and the near-duplicate
confirmations in one batched lookup per ``dedup.CONFIRM_BLOCK`` rows (``ChunkedTexts.read_many``),
so lookups are O(chunks), never one per LSH candidate. Over lazy Parquet inputs ``curate`` serves
them from ``SpooledTexts`` (an id-indexed temporary SQLite file); what stays O(pool) in memory
is listed in ``curate``'s docstring.

``streaming_select`` is an early-stopping variant for a top-k or threshold that decides only
the rows it walks (no decisions for the rest): one SQL query ordered by score descending, then
pair id ascending (ordered in the database, fetched ``chunk_rows`` at a time), texts fetched
only for the rows walked, and the same per-row filters as ``select_pairs`` in the same order:

1. ``features_degenerate`` when the looked-up pair has a ``degenerate_reason``;
2. ``dedup_exact``: the first pair walked with a given normalised text is kept (the walk is in
   ``select_pairs``' priority order, so it keeps the same copy), later ones are dropped;
3. ``language_non_english`` with ``is_english``.

The walk stops once ``top_k`` pairs are accepted, or at the first score below ``threshold``.
For ``top_k`` or ``threshold`` without quotas and without MinHash near-dedup, the selected ids
and ranks equal ``select_pairs``' for the same scored pairs. Memory: one chunk of ids, scores and
texts, the accepted rows, and one 64-hex key per non-degenerate row walked (the exact-dedup set).

Not supported there (``ValueError``; use ``streaming_decisions``): ``ratio`` (its budget is
``floor(ratio * eligible)``, and the eligible count needs every row's filters), per-source
quotas, MinHash near-dedup (a pair can be a near duplicate of any better-scored pair) and
``dedup_keep="first"`` (the walk is in score order).

Pairs scored in SQL for which the lookup returns nothing are not candidates (as in ``curate``,
whose pool is the kept pairs joined with their scores); they are counted as ``missing_text``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from scar_dagster import schema
from scar_dagster.memory import released
from scar_dagster.selection.candidates import Frame, build_candidates
from scar_dagster.selection.dedup import dedup_text, exact_key
from scar_dagster.selection.language import is_english
from scar_dagster.selection.select import SelectionParams, decide, prepare_pool
from scar_dagster.selection.texts import DEFAULT_CHUNK_ROWS, PairText, TextLookup, frame_lookup
from scar_dagster.storage.tables import id_order, scored_pairs

__all__ = ["DEFAULT_CHUNK_ROWS", "PairText", "TextLookup"]
MISSING_TEXT = "missing_text"
SELECTED_COLUMNS = ("pair_id", "source", "score", "rank")


@dataclass(frozen=True)
class StreamingResult:
    """The selected rows in rank order and what the walk saw."""

    selected: pd.DataFrame  # pair_id, source, score, rank (1 = best)
    walked: int  # score rows read from SQL
    chunks: int  # chunks fetched (text lookups made)
    reasons: Counter[str] = field(default_factory=Counter)  # rows walked but not selected


def check_streamable(params: SelectionParams) -> None:
    """Raise ``ValueError`` when ``params`` needs the whole pool (ratio, quotas, MinHash)."""
    if params.ratio is not None:
        raise ValueError(
            "streaming selection supports top_k or threshold; ratio needs the eligible count "
            "(every row's filters): convert it to top_k"
        )
    if params.min_per_source or params.max_per_source:
        raise ValueError("streaming selection does not apply per-source quotas")
    if params.near_dedup:
        raise ValueError("streaming selection does not run MinHash near-dedup (near_dedup=False)")
    if params.dedup_keep != "score":
        raise ValueError("streaming selection walks in score order: dedup_keep must be 'score'")


def iter_score_chunks(
    engine: Engine, ranker_version: str, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[list[tuple[str, str, float]]]:
    """``(pair_id, source, score)`` chunks, score desc then pair id asc, sorted by the database.

    One query with a streaming cursor (server-side on PostgreSQL); only ids, sources and scores
    leave the database.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    col = scored_pairs.c
    with engine.connect() as conn:
        stmt = (
            select(col.pair_id, col.source, col.score)
            .where(col.ranker_version == ranker_version)
            .order_by(col.score.desc(), id_order(conn, col.pair_id).asc())
        )
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
        for part in result.partitions(chunk_rows):
            yield [(str(p), str(s), float(v)) for p, s, v in part]


def _reject_reason(text: PairText, params: SelectionParams, seen: set[str]) -> str | None:
    """The reason a walked pair is not eligible (updating the dedup set), or None."""
    if text.degenerate_reason:
        return schema.FEATURES_DEGENERATE
    key = exact_key(dedup_text(text.instruction, text.response, params.dedup_on))
    if key in seen:
        return schema.DEDUP_EXACT
    seen.add(key)
    threshold = params.english_threshold
    english = (text.instruction, text.response)
    if threshold is not None and not is_english(english, threshold, params.english_rule):
        return schema.LANGUAGE_NON_ENGLISH
    return None


def streaming_select(
    engine: Engine,
    ranker_version: str,
    params: SelectionParams,
    texts: TextLookup,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> StreamingResult:
    """Walk the scores of ``ranker_version`` best first and accept pairs until the cutoff."""
    check_streamable(params)
    accepted: list[tuple[str, str, float, int]] = []
    reasons: Counter[str] = Counter()
    seen: set[str] = set()
    walked = chunks = 0
    with closing(iter_score_chunks(engine, ranker_version, chunk_rows)) as score_chunks:
        for chunk in score_chunks:
            if _full(params, len(accepted)):
                break
            chunks += 1
            found = texts([pair_id for pair_id, _, _ in chunk])
            for pair_id, source, score in chunk:
                if _full(params, len(accepted)) or _below(params, score):
                    return _result(accepted, walked, chunks, reasons)
                walked += 1
                text = found.get(pair_id)
                reason = MISSING_TEXT if text is None else _reject_reason(text, params, seen)
                if reason is None:
                    accepted.append((pair_id, source, score, len(accepted) + 1))
                else:
                    reasons[reason] += 1
    return _result(accepted, walked, chunks, reasons)


def _full(params: SelectionParams, n_accepted: int) -> bool:
    return params.top_k is not None and n_accepted >= params.top_k


def _below(params: SelectionParams, score: float) -> bool:
    return params.threshold is not None and score < params.threshold


def _result(
    accepted: list[tuple[str, str, float, int]], walked: int, chunks: int, reasons: Counter[str]
) -> StreamingResult:
    frame = pd.DataFrame(accepted, columns=list(SELECTED_COLUMNS)).astype(
        {"pair_id": "str", "source": "str", "score": "float64", "rank": "int64"}
    )
    return StreamingResult(selected=frame, walked=walked, chunks=chunks, reasons=reasons)


@dataclass(frozen=True)
class StreamedSelection:
    """Decisions of the streaming path and the text-free pool they were made on."""

    decisions: pd.DataFrame  # as select_pairs
    candidates: pd.DataFrame  # scored pairs with features, without texts
    unscored: pd.DataFrame  # select_unscored decisions
    texts_fetched: int  # pair texts the lookup returned (reads, not distinct pairs)
    lookups: int  # lookup calls (chunks and single confirmations)


SCORE_TABLE_ROWS = 200_000  # score rows per table joined into the pool


def ranked_scores(
    engine: Engine, ranker_version: str, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> pd.DataFrame:
    """``pair_id, score`` of one ranker version in rank order, sorted by the database (each
    chunk's ids become Arrow strings at once: no Python string per pair is kept)."""
    tables = list(score_tables(engine, ranker_version, chunk_rows))
    if not tables:
        return pd.DataFrame({"pair_id": pd.Series([], dtype="str"), "score": []})
    return pd.concat(tables, ignore_index=True)


def score_tables(
    engine: Engine,
    ranker_version: str,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    table_rows: int = SCORE_TABLE_ROWS,
) -> Iterator[pd.DataFrame]:
    """``ranked_scores`` as consecutive frames of at most about ``table_rows`` rows, made as
    the query is read (a join over them holds one frame and a hash table of its ids)."""
    chunks: list[pd.DataFrame] = []
    rows = 0
    for chunk in iter_score_chunks(engine, ranker_version, chunk_rows):
        chunks.append(
            pd.DataFrame(
                {
                    "pair_id": pd.Series([p for p, _, _ in chunk], dtype="str"),
                    "score": pd.Series([v for _, _, v in chunk], dtype="float64"),
                }
            )
        )
        rows += len(chunk)
        if rows >= table_rows:
            yield pd.concat(chunks, ignore_index=True)
            chunks, rows = [], 0
    if chunks:
        yield pd.concat(chunks, ignore_index=True)


def streaming_decisions(
    engine: Engine,
    ranker_version: str,
    pairs: pd.DataFrame,
    features: pd.DataFrame,
    params: SelectionParams,
    texts: TextLookup | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    log: Any = None,
) -> StreamedSelection:
    """Decide every kept pair scored by ``ranker_version``, reading texts chunk by chunk.

    ``pairs`` needs ``id, source`` (and ``origin_file, origin_line`` for the input order);
    its ``instruction, response`` are read only through ``texts`` (default: a lookup over
    ``pairs`` itself). Same decisions as ``select_pairs`` on ``build_candidates``' pool.
    ``streaming_pool`` then ``decide_streamed``, for a caller that drops the inputs between.
    """
    candidates, unscored = streaming_pool(engine, ranker_version, pairs, features, chunk_rows)
    lookup = texts or frame_lookup(pairs)
    return decide_streamed(candidates, unscored, lookup, params, chunk_rows=chunk_rows, log=log)


def streaming_pool(
    engine: Engine,
    ranker_version: str,
    pairs: pd.DataFrame,
    features: Frame,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(candidates, unscored)``: the kept pairs joined with their features and their scores
    (read from SQL in rank order), without texts and sorted by id, and the decisions of the
    unscored pairs. ``pairs`` may be ``keys_by_id``'s narrow frame and ``features`` a reader:
    each input is then dropped once joined (the scores are read after the features, once the
    memory freed so far is given back: ``memory.released``)."""
    scores = released(partial(score_tables, engine, ranker_version, chunk_rows))
    return build_candidates(pairs, features, scores, with_texts=False)


def decide_streamed(
    candidates: pd.DataFrame,
    unscored: pd.DataFrame,
    texts: TextLookup,
    params: SelectionParams,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    log: Any = None,
) -> StreamedSelection:
    """Decide the text-free pool of ``streaming_pool``, its texts read through ``texts``."""
    pool = prepare_pool(candidates, with_texts=False)
    counted = _Counted(texts)
    decisions = decide(pool, counted, params, log, chunk_rows=chunk_rows)
    return StreamedSelection(decisions, candidates, unscored, counted.fetched, counted.calls)


class _Counted:
    """A ``TextLookup`` that counts its calls and the texts it returned."""

    def __init__(self, lookup: TextLookup) -> None:
        self.lookup, self.calls, self.fetched = lookup, 0, 0

    def __call__(self, ids: Sequence[str]) -> Mapping[str, PairText]:
        found = self.lookup(ids)
        self.calls += 1
        self.fetched += len(found)
        return found
