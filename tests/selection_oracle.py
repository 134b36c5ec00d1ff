"""A plain selection of a small frame: the reference the production selection is compared with.

Written to be obviously right, not fast: one Python loop per step over dicts of rows, sets of
seen keys, ``fractions`` for the ratio cutoff, and for near duplicates datasketch's own
``MinHashLSH`` index queried row by row, each candidate confirmed by the exact Jaccard of the
two texts' word n-gram sets. The steps follow ``docs/stages.md``: degenerate features, exact
dedup, English filter, near dedup (each visiting rows best score first, or in input order with
``dedup_keep="first"``), rank by score then id, cutoff, quotas.
"""

from __future__ import annotations

import math
import re
import unicodedata
from fractions import Fraction

import pandas as pd

from scar_dagster import schema
from scar_dagster.schema import DECISION_COLUMNS


def oracle_decisions(candidates: pd.DataFrame, params) -> pd.DataFrame:
    """One decision per candidate row (``id, source, score, instruction, response`` and
    optionally ``degenerate_reason``, ``origin_file``, ``origin_line``), by pair id."""
    rows = [_row(record, position) for position, record in enumerate(_records(candidates))]
    reason: dict[str, str] = {}
    related: dict[str, str | None] = {}
    walk = sorted(rows, key=_visit_key(params.dedup_keep))
    for row in walk:
        if row["degenerate"]:
            reason[row["id"]] = schema.FEATURES_DEGENERATE
    seen: dict[str, str] = {}
    for row in (r for r in walk if r["id"] not in reason):
        key = _fold(_dedup_text(row, params.dedup_on))
        if key in seen:
            reason[row["id"]], related[row["id"]] = schema.DEDUP_EXACT, seen[key]
        else:
            seen[key] = row["id"]
    if params.english_threshold is not None:
        for row in (r for r in walk if r["id"] not in reason):
            texts = (row["instruction"], row["response"])
            if not _english(texts, params.english_threshold, params.english_rule):
                reason[row["id"]] = schema.LANGUAGE_NON_ENGLISH
    if params.near_dedup:
        rest = [r for r in walk if r["id"] not in reason]
        for dropped, kept in _near_duplicates(rest, params).items():
            reason[dropped], related[dropped] = schema.DEDUP_NEAR, kept
    ranked = sorted(
        (r for r in rows if r["id"] not in reason), key=lambda r: (-r["score"], r["id"])
    )
    chosen, quota = _cut(ranked, params)
    for row in ranked:
        if row["id"] in chosen:
            reason[row["id"]] = schema.SELECTED
        elif row["id"] in quota:
            reason[row["id"]] = schema.SELECT_QUOTA
        else:
            reason[row["id"]] = schema.SELECT_BELOW_CUTOFF
    rank = {row["id"]: i + 1 for i, row in enumerate(ranked)}
    frame = pd.DataFrame(
        [
            {
                "id": row["id"],
                "source": row["source"],
                "selected": row["id"] in chosen,
                "reason": reason[row["id"]],
                "rank": rank.get(row["id"]),
                "score": row["score"],
                "related_id": related.get(row["id"]),
            }
            for row in rows
        ],
        columns=list(DECISION_COLUMNS),
    )
    types = {"id": "str", "source": "str", "selected": "bool", "reason": "str"}
    frame = frame.astype({**types, "rank": "Int64", "score": "float64"})
    frame["related_id"] = pd.Series([related.get(row["id"]) for row in rows], dtype="object")
    return frame.sort_values("id", ignore_index=True)


def _records(candidates: pd.DataFrame) -> list[dict]:
    return candidates.to_dict("records")


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _row(record: dict, position: int) -> dict:
    origin = (
        (record["source"], str(record["origin_file"]), int(record["origin_line"]), position)
        if "origin_file" in record and "origin_line" in record
        else (position,)
    )
    return {
        "id": str(record["id"]),
        "source": str(record["source"]),
        "score": float(record["score"]),
        "instruction": _text(record["instruction"]),
        "response": _text(record["response"]),
        "degenerate": bool(_text(record.get("degenerate_reason"))),
        "origin": origin,
    }


def _visit_key(keep: str):
    if keep == "first":
        return lambda row: row["origin"]
    return lambda row: (-row["score"], row["id"])


def _dedup_text(row: dict, on: str) -> str:
    return row["response"] if on == "response" else f"{row['instruction']}\n{row['response']}"


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _english(texts: tuple[str, str], threshold: float, rule: str) -> bool:
    if rule == "reference":  # ASCII letters over all characters, each text above the threshold
        return all(
            bool(text) and sum(c.isascii() and c.isalpha() for c in text) / len(text) > threshold
            for text in texts
        )
    shares = []
    for text in texts:
        letters = [c for c in text if c.isalpha()]
        if letters:
            shares.append(sum(c.isascii() for c in letters) / len(letters))
    return bool(shares) and all(share > threshold for share in shares)


def _grams(text: str, n: int) -> set[str]:
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def _near_duplicates(walk: list[dict], params) -> dict[str, str]:
    """Dropped id -> kept id: each row, in visiting order, against the kept rows only."""
    from datasketch import MinHash, MinHashLSH

    index = MinHashLSH(threshold=params.minhash_threshold, num_perm=params.num_perm)
    kept: dict[str, tuple[int, set[str]]] = {}
    dropped: dict[str, str] = {}
    for step, row in enumerate(walk):
        grams = _grams(_dedup_text(row, params.dedup_on), params.ngram_size)
        if not grams:
            continue
        signature = MinHash(num_perm=params.num_perm, seed=params.seed)
        signature.update_batch([gram.encode("utf-8") for gram in grams])
        matches = [
            other
            for other in index.query(signature)
            if len(grams & kept[other][1]) >= params.minhash_threshold * len(grams | kept[other][1])
        ]
        if matches:
            dropped[row["id"]] = min(matches, key=lambda other: kept[other][0])
            continue
        index.insert(row["id"], signature)
        kept[row["id"]] = (step, grams)
    return dropped


def _cut(ranked: list[dict], params) -> tuple[set[str], set[str]]:
    """(selected ids, ids dropped by a quota) of the rows in rank order."""
    if params.threshold is not None:
        budget, walk = None, [r for r in ranked if r["score"] >= params.threshold]
    else:
        budget = params.top_k
        if budget is None:
            budget = math.floor(Fraction(str(params.ratio)) * len(ranked))
        walk = ranked
    within = {r["id"] for r in (walk if budget is None else walk[:budget])}
    chosen: set[str] = set()
    count: dict[str, int] = {}
    for source, minimum in params.min_per_source.items():
        best = [r for r in ranked if r["source"] == source][:minimum]
        chosen.update(r["id"] for r in best)
        count[source] = count.get(source, 0) + len(best)
    remaining = None if budget is None else budget - len(chosen)
    capped: set[str] = set()
    for row in walk:
        if remaining is not None and remaining <= 0:
            break
        if row["id"] in chosen:
            continue
        if count.get(row["source"], 0) >= params.max_per_source.get(row["source"], math.inf):
            capped.add(row["id"])
            continue
        chosen.add(row["id"])
        count[row["source"]] = count.get(row["source"], 0) + 1
        if remaining is not None:
            remaining -= 1
    return chosen, capped | (within - chosen)
