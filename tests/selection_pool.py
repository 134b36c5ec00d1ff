"""Planted selection pools, and the production selection run on one in-memory frame."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pandas as pd

from scar_dagster import schema
from scar_dagster.selection.decisions import PoolDecisions, decide, decisions_frame
from scar_dagster.selection.outside_pool import cross_source_duplicates
from scar_dagster.selection.params import SelectionParams
from scar_dagster.selection.pool import FEATURE_VALUE_COLUMNS, pool_keys, with_features, with_scores
from scar_dagster.selection.texts import DEFAULT_CHUNK_ROWS, TextLookup, frame_lookup
from scar_dagster.storage.parquet_parts import ParquetPart
from scar_dagster.storage.stores import LocalStore

RANKER = "rv-paths"


def _words(rng: random.Random, n: int) -> list[str]:
    return [f"w{rng.randrange(3000)}" for _ in range(n)]


def planted_pairs(n: int = 150, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(pairs, features, scores)`` over three sources in two files each, with tied scores,
    exact duplicates, near duplicates (a one-word edit, the copy sometimes scoring higher and
    sometimes earlier in input order), non-English, symbol-only and degenerate rows."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append(
            {
                "id": f"{rng.getrandbits(40):010x}",
                "source": "abc"[i % 3],
                "instruction": f"Explain item {i}.",
                "response": " ".join(_words(rng, rng.randint(20, 40))),
                "origin_file": f"part-{rng.randrange(2)}.jsonl",
                "origin_line": rng.randrange(10_000),
            }
        )
    pairs = pd.DataFrame(rows)
    for copy, original in [(10, 3), (11, 4), (40, 41), (70, 2), (90, 91), (120, 5), (121, 5)]:
        words = pairs.loc[original, "response"].split()
        words[rng.randrange(len(words))] = "edited"
        pairs.loc[copy, ["instruction", "response"]] = [
            pairs.loc[original, "instruction"],
            " ".join(words),
        ]
    pairs.loc[20, ["instruction", "response"]] = pairs.loc[21, ["instruction", "response"]].tolist()
    pairs.loc[22, "response"] = pairs.loc[23, "response"].upper()  # exact after case-folding
    pairs.loc[[30, 31], "response"] = "Это совсем не английский текст, друг мой"
    pairs.loc[32, "response"] = "1234 + 5678 = 6912 !!!"  # no letters: the rules disagree
    pairs.loc[33, "response"] = "x = 1; y = 2; z = 3; print(x + y + z) # 42 42 42 42"
    features = pd.DataFrame(
        {
            "id": pairs["id"],
            "degenerate_reason": [
                "features_empty_response" if i in (50, 51) else None for i in range(n)
            ],
            **{m: [rng.uniform(0, 1) for _ in range(n)] for m in schema.STYLE_METRICS},
        }
    )
    scores = pd.DataFrame(
        {
            "id": pairs["id"],
            "source": pairs["source"],
            "score": [round(rng.uniform(-1, 1), 1) for _ in range(n)],  # many ties
        }
    )
    return pairs, features, scores


def write_parts(
    root: Path, pairs: pd.DataFrame, features: pd.DataFrame
) -> tuple[dict[str, ParquetPart], dict[str, ParquetPart]]:
    """``pairs`` and the features of each source's ids as per-source Parquet parts (row groups
    of 10) under ``root``: the lazy inputs the ``selected_subset`` asset receives."""
    store = LocalStore(root)
    pair_parts, feature_parts = {}, {}
    for source, group in pairs.groupby("source"):
        for name, frame, parts in (
            ("raw_pairs", group, pair_parts),
            ("style_features", features[features["id"].isin(group["id"])], feature_parts),
        ):
            path = store.root / name / f"{source}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(path, index=False, row_group_size=10)
            parts[source] = ParquetPart(store, f"{name}/{source}.parquet", source)
    return pair_parts, feature_parts


def tied_pool(n: int = 120, seed: int = 3) -> pd.DataFrame:
    """Candidates (texts and scores in one frame) with long runs of tied scores across chunks,
    exact duplicates whose best copy is non-English, non-English and degenerate rows."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = " ".join(f"w{rng.randrange(900)}" for _ in range(rng.randint(5, 30)))
        rows.append(
            {
                "id": f"{rng.getrandbits(48):012x}",
                "source": "abcd"[i % 4],
                "score": round(rng.uniform(-1, 1), 1),  # one decimal: many ties
                "instruction": f"Explain item {i % 50}.",
                "response": words,
                "degenerate_reason": None,
            }
        )
    pool = pd.DataFrame(rows)
    pool.loc[5, "response"] = pool.loc[4, "response"].upper()  # same text after case-folding
    pool.loc[5, "instruction"] = pool.loc[4, "instruction"]
    pool.loc[9, ["instruction", "response"]] = pool.loc[8, ["instruction", "response"]].tolist()
    pool.loc[8, "response"] = pool.loc[9, "response"] = "Привет мир, как дела сегодня"
    pool.loc[8, "score"], pool.loc[9, "score"] = 0.95, 0.9  # best copy is non-English
    pool.loc[[11, 23], "response"] = "Это совсем не английский текст"
    pool.loc[[13, 31], "degenerate_reason"] = "features_empty_response"
    pool.loc[40:60, "score"] = 0.5  # a long run of ties across chunks
    return pool


def frame_pool(candidates: pd.DataFrame) -> tuple[pd.DataFrame, TextLookup]:
    """The pool of one frame (``id, source, score, instruction, response``, optionally
    ``degenerate_reason``, style metrics, ``origin_file, origin_line``) as ``curate`` builds
    it, and a lookup of its texts. Later copies of an id and unscored rows are not in it."""
    kept, _ = cross_source_duplicates(candidates)
    keys = pool_keys(candidates, kept)
    features = candidates.reindex(columns=["id", *FEATURE_VALUE_COLUMNS])  # absent: null
    if "degenerate_reason" not in candidates.columns:
        features["degenerate_reason"] = pd.Series([None] * len(features), dtype=object)
    scores = candidates[["id", "score"]]
    pool, _ = with_scores(with_features(keys, [features]), [scores])
    return pool, frame_lookup(candidates, kept)


def decided_pool(
    candidates: pd.DataFrame,
    params: SelectionParams,
    log: Any = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> tuple[pd.DataFrame, PoolDecisions]:
    """``frame_pool`` decided by ``decide``: ``(pool, decisions)``."""
    pool, lookup = frame_pool(candidates)
    return pool, decide(pool, lookup, params, log, chunk_rows=chunk_rows)


def decide_frame(
    candidates: pd.DataFrame,
    params: SelectionParams,
    log: Any = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> pd.DataFrame:
    """``decided_pool``'s decisions as a frame, in rank order (``attrs["notes"]``)."""
    return decisions_frame(*decided_pool(candidates, params, log, chunk_rows=chunk_rows))
