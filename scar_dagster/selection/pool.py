"""The one pool builder: every kept pair's narrow keys joined with its features and its score.

The pool holds no texts (they are read through a ``TextLookup``) and is sorted by id. It is
built in three steps, each input dropped once joined, so that the pool never coexists with
all of them: ``pool_keys`` (the keys of the first copy of every id), ``with_features``
(feature tables joined one after the other, e.g. per partition), ``with_scores`` (score tables
likewise; the unscored pairs leave with their decisions). Columns: ``id, source, score``, the
style metrics, ``_degenerate`` (bool: the feature stage set a ``degenerate_reason``) and
``_order`` (input position: source, origin file and line)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection.arrow_keys import repeats_in_sorted, row_positions, sort_order
from scar_dagster.selection.outside_pool import unscored_decisions
from scar_dagster.selection.texts import DEFAULT_CHUNK_ROWS
from scar_dagster.storage.tables import scored_pairs, selector_scores

PAIR_KEY_COLUMNS = ("id", "source", "origin_file", "origin_line")
FEATURE_VALUE_COLUMNS = ("degenerate_reason", *STYLE_METRICS)
INPUT_ORDER_COLUMNS = ("source", "origin_file", "origin_line")
SCORE_TABLE_ROWS = 200_000  # score rows per table joined into the pool


def pool_keys(pairs: pd.DataFrame, kept: np.ndarray) -> pd.DataFrame:
    """``id, source, _order, _row`` of the rows ``kept`` of ``pairs`` (the first copy of every
    id: ``cross_source_duplicates``), sorted by id. ``_order`` is the input position
    (``input_order``), ``_row`` the row in ``pairs``. Only the key columns are read; the
    origin strings are not copied (only their order)."""
    narrow = pairs[[c for c in PAIR_KEY_COLUMNS if c in pairs.columns]]
    if len(kept) < len(pairs):
        narrow = narrow.iloc[kept]
    by_id = sort_order(narrow, ["id"])
    order = input_order(narrow)
    return pd.DataFrame(
        {
            "id": pd.Series(narrow["id"].astype("str").array.take(by_id), dtype="str"),
            "source": pd.Series(narrow["source"].astype("str").array.take(by_id), dtype="str"),
            "_order": order[by_id],
            "_row": kept[by_id],
        }
    )


def input_order(frame: pd.DataFrame) -> np.ndarray:
    """Each row's position in input order: by source, origin file and line when the frame has
    them (sources sorted, as cross-source dedup), else the frame's row order."""
    if all(column in frame.columns for column in INPUT_ORDER_COLUMNS):
        keys = frame[list(INPUT_ORDER_COLUMNS)].reset_index(drop=True)
        keys = keys.assign(origin_line=pd.to_numeric(keys["origin_line"]).fillna(-1))
        keys = keys.astype({"source": "str", "origin_file": "str"})
        ordered = sort_order(keys, INPUT_ORDER_COLUMNS)
    else:
        ordered = np.arange(len(frame))
    order = np.empty(len(frame), dtype=np.int64)
    order[ordered] = np.arange(len(frame))
    return order


def with_features(keys: pd.DataFrame, features: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """``keys`` with ``degenerate_reason`` and the style metrics of ``features`` (tables with
    ``id``, read one after the other; a pair without features gets nulls)."""
    return keys.assign(**_looked_up(keys["id"], features, "id", FEATURE_VALUE_COLUMNS))


def with_scores(
    pool: pd.DataFrame, scores: Iterable[pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(pool, unscored)``: the scored rows of ``pool`` checked (finite scores, unique ids),
    with ``_degenerate``; and ``select_unscored`` decisions of the others, in input row order.
    ``scores``: tables with ``id, score``, read one after the other."""
    pool = pool.assign(**_looked_up(pool["id"], scores, "id", ["score"]))
    missing = pool["score"].isna().to_numpy()
    unscored = pool.loc[missing, ["id", "source", "_row"]].sort_values("_row", kind="stable")
    # boolean indexing copies every column: only when a pair is unscored
    scored = pool[~missing].reset_index(drop=True) if missing.any() else pool
    return _checked(scored), unscored_decisions(unscored)


def _checked(candidates: pd.DataFrame) -> pd.DataFrame:
    """The pool's columns of scored, id-sorted candidates, after checking scores and ids."""
    metrics = [c for c in STYLE_METRICS if c in candidates.columns]
    pool = candidates[["id", "source", "score", *metrics]]  # copy-on-write: no copy yet
    pool["score"] = pd.to_numeric(pool["score"], errors="raise").astype("float64")
    bad = pool["id"][~np.isfinite(pool["score"].to_numpy())].tolist()
    if bad:
        raise ValueError(f"scores must be finite numbers; {len(bad)} are not (ids {bad[:3]})")
    flag = candidates["degenerate_reason"].fillna("").astype(str).str.len() > 0
    pool["_degenerate"] = flag.to_numpy()
    pool["_order"] = candidates["_order"].to_numpy(np.int64)
    repeated = sorted(set(pool["id"][repeats_in_sorted(pool["id"])]))
    if repeated:
        raise ValueError(f"pool ids must be unique (one row per pair); repeated: {repeated[:3]}")
    return pool


def rank_order(positions: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Pool ``positions`` by score descending, then id ascending (the pool is sorted by id)."""
    return positions[np.lexsort((positions, -scores[positions]))]


def score_tables(
    engine: Engine,
    ranker_version: str,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    table_rows: int = SCORE_TABLE_ROWS,
) -> Iterator[pd.DataFrame]:
    """``id, score`` of one ranker version from ``scored_pairs``, as frames of at most
    about ``table_rows`` rows made as the query is read (``chunk_rows`` at a time, with a
    streaming cursor: server-side on PostgreSQL), so a join over them holds one frame and a
    hash table of its ids, and no Python string per pair is kept."""
    col = scored_pairs.c
    stmt = select(col.id, col.score).where(col.ranker_version == ranker_version)
    return _score_frames(engine, stmt, chunk_rows, table_rows)


def selector_score_tables(
    engine: Engine,
    selector_version: str,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    table_rows: int = SCORE_TABLE_ROWS,
) -> Iterator[pd.DataFrame]:
    """``score_tables`` of one selector version, from ``selector_scores``."""
    col = selector_scores.c
    stmt = select(col.id, col.score).where(col.selector_version == selector_version)
    return _score_frames(engine, stmt, chunk_rows, table_rows)


def _score_frames(
    engine: Engine, stmt: Any, chunk_rows: int, table_rows: int
) -> Iterator[pd.DataFrame]:
    """The ``(pair id, score)`` rows of ``stmt`` as ``id, score`` frames (see above)."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    chunks: list[pd.DataFrame] = []
    rows = 0
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
        for part in result.partitions(chunk_rows):
            chunks.append(
                pd.DataFrame(
                    {
                        "id": pd.Series([str(p) for p, _ in part], dtype="str"),
                        "score": pd.Series([float(v) for _, v in part], dtype="float64"),
                    }
                )
            )
            rows += len(part)
            if rows >= table_rows:
                yield pd.concat(chunks, ignore_index=True)
                chunks, rows = [], 0
    if chunks:
        yield pd.concat(chunks, ignore_index=True)


def _looked_up(
    ids: pd.Series, tables: Iterable[pd.DataFrame], key: str, columns: Sequence[str]
) -> dict[str, pd.Series]:
    """``columns`` of ``tables`` aligned to ``ids`` by their ``key`` column, as a left merge
    on the tables' concatenation would give them (the first row of a repeated key, earliest
    table first; missing: null). The tables are read one after the other (e.g. the parts of
    a partitioned asset): one table and the rows found so far are held, and each hash table
    is over one table's keys."""
    at_found = np.full(len(ids), -1, dtype=np.int64)  # row in the concatenated found rows
    # ``map`` holds each table only while its new rows are taken
    parts = list(map(partial(_new_rows, ids, at_found, key, list(columns)), tables))
    found = at_found >= 0
    if not found.any():
        none = parts[0] if parts else pd.DataFrame(columns=list(columns), dtype=float)
        return {
            c: none[c].reset_index(drop=True).reindex(range(len(ids))).set_axis(ids.index)
            for c in columns
        }
    parts = [part for part in parts if len(part)]
    values = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    parts.clear()
    taken = np.where(found, at_found, 0)
    return {
        c: values[c].take(taken).reset_index(drop=True).where(found).set_axis(ids.index)
        for c in columns
    }


def _new_rows(
    ids: pd.Series, at_found: np.ndarray, key: str, columns: list[str], table: pd.DataFrame
) -> pd.DataFrame:
    """The ``columns`` of ``table``'s rows for ids no earlier table had, in ``ids`` order;
    records their positions among the rows found so far in ``at_found``."""
    at = row_positions(ids, table[key])
    new = np.flatnonzero((at >= 0) & (at_found < 0))
    at_found[new] = np.arange(len(new)) + int((at_found >= 0).sum())
    return table[columns].take(at[new])
