"""Decisions of input rows that never reach the pool: later copies of an id, rows quarantined
at ingest, kept pairs the ranker has not scored.

With them ``selection_decisions`` explains every input row of a subset version.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scar_dagster import schema
from scar_dagster.schema import DECISION_COLUMNS
from scar_dagster.selection.arrow_keys import duplicated, sort_order


def _decisions(
    pair_ids: list[str], sources: list[str], reasons: list[str], related: list[str | None]
) -> pd.DataFrame:
    """Unselected, unranked, unscored decision rows, with the dtypes of the pool's decisions
    (so that concatenating them copies no Arrow strings into Python objects)."""
    n = len(pair_ids)
    frame = pd.DataFrame(
        {
            "id": pair_ids,
            "source": sources,
            "selected": [False] * n,
            "reason": reasons,
            "rank": [None] * n,
            "score": [None] * n,
            "related_id": related,
        },
        columns=list(DECISION_COLUMNS),
    )
    types = {"id": "str", "source": "str", "reason": "str"}
    return frame.astype({**types, "selected": "bool", "rank": "Int64", "score": "float64"})


def cross_source_duplicates(pairs: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Split the rows of ``pairs`` whose id already appeared in an earlier source (sources in
    sorted order, then ids): ``(kept, decisions)``, the ascending positions of the first copy
    of every id, and ``dedup_exact`` decisions of the later copies, keyed
    ``duplicate:<source>:<id>`` and naming the kept id."""
    keys = _sorted_keys(pairs)
    copies = keys[duplicated(keys["id"])]
    drop = np.zeros(len(pairs), dtype=bool)
    drop[copies.index.to_numpy()] = True
    pair_ids = [f"duplicate:{s}:{i}" for s, i in zip(copies["source"], copies["id"], strict=True)]
    reasons = [schema.DEDUP_EXACT] * len(copies)
    decisions = _decisions(pair_ids, copies["source"].tolist(), reasons, copies["id"].tolist())
    return np.flatnonzero(~drop), decisions


def _sorted_keys(pairs: pd.DataFrame) -> pd.DataFrame:
    """``source, id`` of ``pairs`` (index: row positions) in a stable sort by source, then id
    (code point order, as Python's), sorted by Arrow (``arrow_keys.sort_order``)."""
    keys = pd.DataFrame(
        {"source": pairs["source"].astype("str").array, "id": pairs["id"].astype("str").array}
    )
    return keys.take(sort_order(keys, ["source", "id"]))


def unscored_decisions(unscored: pd.DataFrame) -> pd.DataFrame:
    """``select_unscored`` decisions of kept pairs (``id, source``) the ranker has not scored."""
    n = len(unscored)
    reasons = [schema.SELECT_UNSCORED] * n
    return _decisions(unscored["id"].tolist(), unscored["source"].tolist(), reasons, [None] * n)


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
        keys,
        quarantine["source"].tolist(),
        quarantine["reason"].tolist(),
        quarantine["duplicate_of"].tolist(),
    )
