"""Assemble the selection pool from stored tables, and decisions for rows that never reach it.

The pool is every kept raw pair joined with its features and its score under one ranker
version. Pairs without a score and rows quarantined upstream get decision rows too, so that
``selection_decisions`` explains every input row of the subset version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from scar_dagster import schema as r
from scar_dagster.schema import DECISION_COLUMNS, STYLE_METRICS
from scar_dagster.selection.arrow_keys import (
    duplicated,
    row_positions,
    sort_order,
    without_repeats,
)
from scar_dagster.selection.texts import input_order

ORIGIN_COLUMNS = ("origin_file", "origin_line")


def _decisions(rows: dict[str, list]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(DECISION_COLUMNS))
    # the dtypes of select_pairs' decisions, so that concatenating them copies no Arrow strings
    # into Python objects
    types = {"pair_id": "str", "source": "str", "reason": "str"}
    return frame.astype({**types, "selected": "bool", "rank": "Int64", "score": "float64"})


# a frame, frames read one after the other (e.g. per partition), or a reader of either
Tables = pd.DataFrame | Iterable[pd.DataFrame]
Frame = Tables | Callable[[], Tables]
FEATURE_VALUE_COLUMNS = ("degenerate_reason", *STYLE_METRICS)


def keys_by_id(pairs: pd.DataFrame) -> pd.DataFrame:
    """``id, source, _order, _row`` of ``pairs`` (ids unique), sorted by id: ``_order`` is
    the input position (``input_order``: source, origin file and line), ``_row`` the row in
    ``pairs``. The origin strings are not copied: a text-free pool needs only their order."""
    by_id = sort_order(pairs, ["id"])
    order = input_order(pairs)
    return pd.DataFrame(
        {
            "id": pd.Series(pairs["id"].astype("str").array.take(by_id), dtype="str"),
            "source": pd.Series(pairs["source"].astype("str").array.take(by_id), dtype="str"),
            "_order": order[by_id],
            "_row": by_id,
        }
    )


def build_candidates(
    pairs: pd.DataFrame, features: Frame, scores: Frame, *, with_texts: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(candidates, unscored)``: scored pairs with their input position, features
    and texts, and decisions (reason ``select_unscored``, in the row order of ``pairs``) for
    kept pairs the ranker has not scored.

    With texts the candidates keep the rows of ``pairs`` in order with their origin columns.
    ``with_texts=False`` gives the text-free pool of the streaming path: ``keys_by_id``'s
    columns (``pairs`` may already be that) joined with the features and the score, sorted by
    id. ``features`` and ``scores`` may be readers, called one after the other, so that each
    table is dropped once joined.
    """
    if with_texts:
        columns = ["id", "source", *(c for c in ORIGIN_COLUMNS if c in pairs.columns)]
        pool = without_repeats(pairs[[*columns, "instruction", "response"]], "id")
        pool = pool.reset_index(drop=True)
    else:
        pool = pairs if "_row" in pairs.columns else keys_by_id(without_repeats(pairs, "id"))
    pool = pool.assign(**_looked_up(pool["id"], _tables(features), "id", FEATURE_VALUE_COLUMNS))
    pool = pool.assign(**_looked_up(pool["id"], _tables(scores), "pair_id", ["score"]))
    missing = pool["score"].isna().to_numpy()
    unscored = pool[missing]
    if "_row" in pool.columns:
        unscored = unscored.sort_values("_row", kind="stable")
        pool = pool.drop(columns="_row")
    decisions = _decisions(
        {
            "pair_id": unscored["id"].tolist(),
            "source": unscored["source"].tolist(),
            "selected": [False] * len(unscored),
            "reason": [r.SELECT_UNSCORED] * len(unscored),
            "rank": [None] * len(unscored),
            "score": [None] * len(unscored),
            "related_id": [None] * len(unscored),
        }
    )
    # boolean indexing copies every column: only when a pair is unscored
    return (pool[~missing] if missing.any() else pool).reset_index(drop=True), decisions


def _tables(table: Frame) -> Iterable[pd.DataFrame]:
    table = table() if callable(table) else table
    return [table] if isinstance(table, pd.DataFrame) else table


def _looked_up(
    ids: pd.Series, tables: Iterable[pd.DataFrame], key: str, columns: Sequence[str]
) -> dict[str, pd.Series]:
    """``columns`` of ``tables`` aligned to ``ids`` by their ``key`` column, as a left merge
    on the tables' concatenation would give them (the first row of a repeated key, earliest
    table first; missing: null). The tables are read one after the other (e.g. the parts of
    a partitioned asset): one table and the rows found so far are held, and each hash table
    is over one table's keys."""
    at_found = np.full(len(ids), -1, dtype=np.int64)  # row in the concatenated found rows
    found_parts: list[pd.DataFrame] = []
    empty: pd.DataFrame | None = None
    for table in tables:
        at = row_positions(ids, table[key])
        new = np.flatnonzero((at >= 0) & (at_found < 0))
        chosen = table[list(columns)]
        empty = chosen.iloc[:0] if empty is None else empty
        if len(new):
            at_found[new] = np.arange(len(new)) + sum(len(part) for part in found_parts)
            found_parts.append(chosen.take(at[new]))
        del table, chosen, at
    found = at_found >= 0
    if not found_parts:
        none = empty if empty is not None else pd.DataFrame(columns=list(columns), dtype=float)
        return {
            c: none[c].reset_index(drop=True).reindex(range(len(ids))).set_axis(ids.index)
            for c in columns
        }
    values = found_parts[0] if len(found_parts) == 1 else pd.concat(found_parts, ignore_index=True)
    del found_parts
    taken = np.where(found, at_found, 0)
    return {
        c: values[c].take(taken).reset_index(drop=True).where(found).set_axis(ids.index)
        for c in columns
    }


def cross_source_duplicates(pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split pairs whose id already appeared in an earlier source (sources in sorted order).

    Returns ``(unique_pairs, decisions)``: the later copies get ``dedup_exact`` decisions keyed
    ``duplicate:<source>:<id>`` and naming the kept id. ``unique_pairs`` keeps the input row
    order; only ids and sources are sorted, so without repeats the texts are not copied.
    """
    keys = _sorted_keys(pairs)
    copies = keys[duplicated(keys["id"])]
    drop = np.zeros(len(pairs), dtype=bool)
    drop[copies.index.to_numpy()] = True
    unique = pairs.reset_index(drop=True) if not drop.any() else pairs.iloc[~drop]
    return unique.reset_index(drop=True), _decisions(
        {
            "pair_id": [
                f"duplicate:{s}:{i}" for s, i in zip(copies["source"], copies["id"], strict=True)
            ],
            "source": copies["source"].tolist(),
            "selected": [False] * len(copies),
            "reason": [r.DEDUP_EXACT] * len(copies),
            "rank": [None] * len(copies),
            "score": [None] * len(copies),
            "related_id": copies["id"].tolist(),
        }
    )


def _sorted_keys(pairs: pd.DataFrame) -> pd.DataFrame:
    """``source, id`` of ``pairs`` (index: row positions) in a stable sort by source, then id
    (code point order, as Python's), sorted by Arrow (``arrow_keys.sort_order``)."""
    keys = pd.DataFrame(
        {"source": pairs["source"].astype("str").array, "id": pairs["id"].astype("str").array}
    )
    return keys.take(sort_order(keys, ["source", "id"]))


def quarantine_key(source: str, origin_file: str, origin_line: int, origin_turn: int = 0) -> str:
    """The decision id of a row quarantined upstream (it has no pair id of its own); a turn
    of a conversation that gave several rows is part of it."""
    turn = f":{origin_turn}" if origin_turn else ""
    return f"quarantine:{source}:{origin_file}:{origin_line}{turn}"


def upstream_decisions(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Decision rows for rows dropped at ingest, keyed by file, line and turn, reason kept."""
    # (partitions ingested before turns existed have no origin_turn column: turn 0)
    turns = quarantine.get("origin_turn", pd.Series(0, index=quarantine.index)).fillna(0)
    keys = [
        quarantine_key(s, f, int(n), int(t))
        for s, f, n, t in zip(
            quarantine["source"],
            quarantine["origin_file"],
            quarantine["origin_line"],
            turns,
            strict=True,
        )
    ]
    return _decisions(
        {
            "pair_id": keys,
            "source": quarantine["source"].tolist(),
            "selected": [False] * len(quarantine),
            "reason": quarantine["reason"].tolist(),
            "rank": [None] * len(quarantine),
            "score": [None] * len(quarantine),
            "related_id": quarantine["duplicate_of"].tolist(),
        }
    )
