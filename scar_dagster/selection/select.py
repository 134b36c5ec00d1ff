"""Select the subset: filter, deduplicate, rank by style score, cut, apply per-source quotas.

Steps, in order (SCAR's ``rank_and_filter`` plus per-sample reasons):

1. ``features_degenerate``: rows whose ``degenerate_reason`` is set.
2. ``dedup_exact``: identical normalised texts across all sources (see ``dedup``).
3. ``language_non_english``: the English filter on instruction and response (``english_rule``).
4. ``dedup_near``: optional seeded MinHash near-dedup, confirmed by the exact Jaccard.

Steps 2-4 visit the pairs in the ``dedup_keep`` priority order (best score first, or input
order: source, origin file, line) and keep the first of each duplicate group. They read
texts through a ``TextLookup`` front to back, one chunk at a time, so the same ``decide``
serves the in-memory pool (``select_pairs``) and the streaming one (``streaming``).
5. Rank the eligible rows by score descending, then id ascending (rank 1 = best).
6. Cut: ``top_k`` rows, ``floor(ratio * eligible)`` rows, or every row with score >= threshold.
7. Quotas. ``min_per_source`` first reserves the best-ranked rows of each named source (even
   below the cutoff). The rest is filled in rank order, skipping rows whose source already
   holds ``max_per_source`` rows. With top_k/ratio the subset keeps its size, so a capped
   source's slots go to the next-ranked rows of other sources; with a threshold only rows at
   or above it fill. Eligible rows not selected are ``select_quota`` when a cap skipped them
   or a reservation displaced them from the cutoff, else ``select_below_cutoff``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster import schema
from scar_dagster.progress import Progress
from scar_dagster.schema import DECISION_COLUMNS, STYLE_METRICS
from scar_dagster.selection.arrow_keys import repeats_in_sorted, sort_order
from scar_dagster.selection.cutoff import rows_for_ratio
from scar_dagster.selection.dedup import (
    DEDUP_KEEPS,
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_NGRAM_SIZE,
    DEFAULT_NUM_PERM,
    DedupKeep,
    DedupOn,
    dedup_text,
    exact_digest,
    near_duplicates_in_order,
)
from scar_dagster.selection.language import (
    DEFAULT_ENGLISH_THRESHOLD,
    ENGLISH_RULES,
    EnglishRule,
    is_english,
)
from scar_dagster.selection.texts import (
    DEFAULT_CHUNK_ROWS,
    ChunkedTexts,
    DedupTexts,
    TextLookup,
    frame_lookup,
    input_order,
)

CANDIDATE_COLUMNS = ("id", "source", "score", "instruction", "response")


def _freeze_quota(name: str, quota: Mapping[str, int] | None) -> Mapping[str, int]:
    if quota is None:
        return MappingProxyType({})
    if not isinstance(quota, Mapping):
        raise TypeError(f"{name} must be a mapping of source -> count, got {type(quota).__name__}")
    for source, count in quota.items():
        if not isinstance(source, str):
            raise TypeError(f"{name} keys must be source names (str), got {source!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{name}[{source!r}] must be a non-negative int, got {count!r}")
    return MappingProxyType(dict(sorted(quota.items())))


@dataclass(frozen=True)
class SelectionParams:
    """How to pick the subset: exactly one of ``top_k``, ``ratio`` or ``threshold``.

    Defaults follow SCAR's reference ``rank_and_filter`` (English share 0.7, MinHash with
    128 permutations over word bigrams at similarity 0.5), seeded here. Two choices differ
    from it by default: ``english_rule="letters"`` (ASCII letters among letters; the
    reference's ``"reference"`` counts them among all characters) and ``dedup_keep="score"``
    (the higher-scored copy of a duplicate group stays; the reference's ``"first"`` keeps the
    earliest in input order).

    Example::

        SelectionParams(top_k=5000, max_per_source={"web": 2000})
    """

    top_k: int | None = None
    ratio: float | None = None
    threshold: float | None = None
    min_per_source: Mapping[str, int] | None = field(default=None)
    max_per_source: Mapping[str, int] | None = field(default=None)
    english_threshold: float | None = DEFAULT_ENGLISH_THRESHOLD
    english_rule: EnglishRule = "letters"
    dedup_on: DedupOn = "pair"
    dedup_keep: DedupKeep = "score"
    near_dedup: bool = True
    minhash_threshold: float = DEFAULT_NEAR_THRESHOLD
    num_perm: int = DEFAULT_NUM_PERM
    ngram_size: int = DEFAULT_NGRAM_SIZE
    seed: int = 1

    def __post_init__(self) -> None:
        chosen = {k: v for k, v in self._cutoffs().items() if v is not None}
        if len(chosen) != 1:
            raise ValueError(
                "SelectionParams needs exactly one of top_k, ratio or threshold; "
                f"got {chosen or 'none'}"
            )
        if self.top_k is not None and (
            isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0
        ):
            raise ValueError(f"top_k must be a non-negative int, got {self.top_k!r}")
        if self.ratio is not None:
            if not _is_real(self.ratio) or not 0.0 <= self.ratio <= 1.0:
                raise ValueError(f"ratio must be a number in [0, 1], got {self.ratio!r}")
            object.__setattr__(self, "ratio", float(self.ratio))
        if self.threshold is not None:
            if not _is_real(self.threshold) or not math.isfinite(self.threshold):
                raise ValueError(f"threshold must be a finite number, got {self.threshold!r}")
            object.__setattr__(self, "threshold", float(self.threshold))
        low = _freeze_quota("min_per_source", self.min_per_source)
        high = _freeze_quota("max_per_source", self.max_per_source)
        object.__setattr__(self, "min_per_source", low)
        object.__setattr__(self, "max_per_source", high)
        for source, minimum in low.items():
            if source in high and minimum > high[source]:
                raise ValueError(
                    f"min_per_source[{source!r}]={minimum} exceeds "
                    f"max_per_source[{source!r}]={high[source]}"
                )
        if self.top_k is not None and sum(low.values()) > self.top_k:
            raise ValueError(
                f"min_per_source reserves {sum(low.values())} rows but top_k is {self.top_k}"
            )
        self._check_filters()

    def _check_filters(self) -> None:
        english = self.english_threshold
        if english is not None and (not _is_real(english) or not 0.0 <= english < 1.0):
            raise ValueError(f"english_threshold must be in [0, 1) or None, got {english!r}")
        if self.dedup_on not in ("pair", "response"):
            raise ValueError(f"dedup_on must be 'pair' or 'response', got {self.dedup_on!r}")
        if self.english_rule not in ENGLISH_RULES:
            raise ValueError(f"english_rule must be in {ENGLISH_RULES}, got {self.english_rule!r}")
        if self.dedup_keep not in DEDUP_KEEPS:
            raise ValueError(f"dedup_keep must be one of {DEDUP_KEEPS}, got {self.dedup_keep!r}")
        if not _is_real(self.minhash_threshold) or not 0.0 < self.minhash_threshold <= 1.0:
            raise ValueError(f"minhash_threshold must be in (0, 1], got {self.minhash_threshold!r}")
        for name, low in (("num_perm", 2), ("ngram_size", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")

    def _cutoffs(self) -> dict[str, Any]:
        return {"top_k": self.top_k, "ratio": self.ratio, "threshold": self.threshold}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field (quotas as sorted dicts)."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["min_per_source"] = dict(self.min_per_source or {})
        out["max_per_source"] = dict(self.max_per_source or {})
        return out

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the form hashed into subset versions."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def __hash__(self) -> int:
        return hash(self.to_json())


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def prepare_pool(candidates: pd.DataFrame, *, with_texts: bool = True) -> pd.DataFrame:
    """Checked candidates sorted by id, with ``_degenerate`` and ``_order`` (input position:
    a given ``_order`` column, else from the origin columns, else the row order).

    ``with_texts=False``: a pool for ``decide`` whose texts come from a ``TextLookup``; it
    keeps ``id, source, score`` and the style metrics, sharing their arrays with
    ``candidates`` (no copy when they are already sorted by id).
    """
    needed = CANDIDATE_COLUMNS if with_texts else CANDIDATE_COLUMNS[:3]
    missing = [c for c in needed if c not in candidates.columns]
    if missing:
        raise ValueError(f"select_pairs needs columns {list(needed)}; missing {missing}")
    metrics = [c for c in STYLE_METRICS if c in candidates.columns]
    keep = list(candidates.columns) if with_texts else [*needed, *metrics]
    pool = candidates[[c for c in keep if c != "_order"]]  # copy-on-write: no copy yet
    pool["id"] = pool["id"].astype(str)
    pool["score"] = pd.to_numeric(pool["score"], errors="raise").astype("float64")
    bad = pool["id"][~np.isfinite(pool["score"].to_numpy())].tolist()
    if bad:
        raise ValueError(f"scores must be finite numbers; {len(bad)} are not (ids {bad[:3]})")
    pool["source"] = pool["source"].astype(str)
    for column in ("instruction", "response") if with_texts else ():
        pool[column] = pool[column].fillna("").astype(str)
    if "degenerate_reason" in candidates.columns:
        flag = candidates["degenerate_reason"].fillna("").astype(str).str.len() > 0
    else:
        flag = pd.Series(False, index=pool.index)
    pool["_degenerate"] = flag.to_numpy()
    given = candidates["_order"] if "_order" in candidates.columns else None
    pool["_order"] = input_order(candidates) if given is None else given.to_numpy(np.int64)
    by_id = sort_order(pool, ["id"])
    pool = pool if np.array_equal(by_id, np.arange(len(pool))) else pool.take(by_id)
    pool = pool.reset_index(drop=True)
    repeated = sorted(set(pool["id"][repeats_in_sorted(pool["id"])]))
    if repeated:
        raise ValueError(
            f"candidate ids must be unique (one row per pair); repeated: {repeated[:3]}"
        )
    return pool


class _IdsAt(Sequence[str]):
    """The pool ids at ``positions``, made on read (a chunk at a time, never all at once)."""

    def __init__(self, ids: pd.api.extensions.ExtensionArray | np.ndarray, positions: np.ndarray):
        self._ids, self._positions = ids, positions

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [str(i) for i in self._ids.take(self._positions[index]).tolist()]
        return str(self._ids[int(self._positions[index])])


# Decision reasons as small integer codes while deciding (one byte per pair, not a dict entry)
REASON_CODES: tuple[str, ...] = (
    "",  # eligible so far
    schema.FEATURES_DEGENERATE,
    schema.DEDUP_EXACT,
    schema.LANGUAGE_NON_ENGLISH,
    schema.DEDUP_NEAR,
    schema.SELECTED,
    schema.SELECT_QUOTA,
    schema.SELECT_BELOW_CUTOFF,
)
_CODE = {name: code for code, name in enumerate(REASON_CODES)}


def _rank_order(positions: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``positions`` by score descending, then id ascending (the pool is sorted by id)."""
    return positions[np.lexsort((positions, -scores[positions]))]


def _priority(pool: pd.DataFrame, positions: np.ndarray, keep: DedupKeep) -> np.ndarray:
    """``positions`` in dedup priority order: best score (then id), or input order."""
    if keep == "first":
        order = pool["_order"].to_numpy()
        return positions[np.argsort(order[positions], kind="stable")]
    return _rank_order(positions, pool["score"].to_numpy(dtype="float64"))


def _filter(
    pool: pd.DataFrame, texts: TextLookup, params: SelectionParams, log: Any, chunk_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1-4: each pool row's reason code (0: eligible) and related row (-1: none)."""
    n = len(pool)
    ids = pool["id"].array
    reason = np.zeros(n, dtype=np.int8)
    related = np.full(n, -1, dtype=np.int64)
    degenerate = pool["_degenerate"].to_numpy(dtype=bool)
    reason[degenerate] = _CODE[schema.FEATURES_DEGENERATE]
    walk = _priority(pool, np.flatnonzero(~degenerate), params.dedup_keep)
    rows = ChunkedTexts(_IdsAt(ids, walk), texts, chunk_rows)
    digests = np.empty(len(walk), dtype="S16")
    english = np.ones(len(walk), dtype=bool)
    threshold = params.english_threshold
    progress = Progress("selection: exact dedup and language filter", len(walk), log, unit="pairs")
    for position in progress.track(range(len(walk))):
        text = rows[position]
        folded = dedup_text(text.instruction, text.response, params.dedup_on)
        digests[position] = exact_digest(folded)
        if threshold is not None:
            pair = (text.instruction, text.response)
            english[position] = is_english(pair, threshold, params.english_rule)
    # the first pair of the walk with a text is kept, later ones name it
    _, first, group = np.unique(digests, return_index=True, return_inverse=True)
    kept = first[group.reshape(-1)]
    duplicate = kept != np.arange(len(walk))
    reason[walk[duplicate]] = _CODE[schema.DEDUP_EXACT]
    related[walk[duplicate]] = walk[kept[duplicate]]
    reason[walk[~duplicate & ~english]] = _CODE[schema.LANGUAGE_NON_ENGLISH]
    del digests, first, group, kept, duplicate, english
    if params.near_dedup:
        rest = walk[reason[walk] == 0]
        near = near_duplicates_in_order(
            rest,
            DedupTexts(ChunkedTexts(_IdsAt(ids, rest), texts, chunk_rows), params.dedup_on),
            threshold=params.minhash_threshold,
            num_perm=params.num_perm,
            ngram_size=params.ngram_size,
            seed=params.seed,
            log=log,
        )
        for row, kept_row in near.items():
            reason[row], related[row] = _CODE[schema.DEDUP_NEAR], kept_row
    return reason, related


def _cut(
    ranked: np.ndarray,
    source_code: np.ndarray,
    sources: Sequence[str],
    scores: np.ndarray,
    params: SelectionParams,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Steps 6-7 on pool rows in rank order: (selected, dropped by quota) masks, notes."""
    notes: list[str] = []
    n = len(scores)
    budget: int | None = None
    within_cutoff = np.zeros(n, dtype=bool)
    if params.threshold is not None:
        walk = ranked[scores[ranked] >= params.threshold]
        within_cutoff[walk] = True
    else:
        if params.top_k is not None:
            budget = params.top_k
        else:  # rounded down: ratio 0.29 of 100 rows is 29, not 28
            budget = rows_for_ratio(len(ranked), params.ratio)
        if budget == 0:
            notes.append("the cutoff selects 0 rows: empty subset (as requested)")
        elif budget > len(ranked):
            notes.append(f"cutoff asks for {budget} rows; all {len(ranked)} eligible selected")
        walk = ranked
        within_cutoff[ranked[:budget]] = True
    chosen = np.zeros(n, dtype=bool)
    code_of = {source: code for code, source in enumerate(sources)}
    count = np.zeros(len(sources), dtype=np.int64)
    for source, minimum in (params.min_per_source or {}).items():
        code = code_of.get(source, -1)
        best = ranked[source_code[ranked] == code][:minimum]
        if len(best) < minimum:
            notes.append(f"min_per_source[{source!r}]={minimum} but only {len(best)} eligible")
        chosen[best] = True
        if code >= 0:
            count[code] += len(best)
    reserved = int(chosen.sum())
    if budget is not None and reserved > budget:
        raise ValueError(f"min_per_source reserves {reserved} rows but the cutoff allows {budget}")
    if added := int((chosen & ~within_cutoff).sum()):
        notes.append(f"min_per_source added {added} rows from below the cutoff")
    remaining = None if budget is None else budget - reserved
    capped = np.zeros(n, dtype=bool)
    cap = np.full(len(sources), np.iinfo(np.int64).max, dtype=np.int64)
    for source, limit in (params.max_per_source or {}).items():
        if source in code_of:
            cap[code_of[source]] = limit
    if remaining is None or remaining > 0:
        _fill(walk, source_code, chosen, capped, count, cap, remaining)
    return chosen, capped | (within_cutoff & ~chosen), notes


FILL_BLOCK = 10_000  # ranked rows turned into Python ints at a time


def _fill(
    walk: np.ndarray,
    source_code: np.ndarray,
    chosen: np.ndarray,
    capped: np.ndarray,
    count: np.ndarray,
    cap: np.ndarray,
    remaining: int | None,
) -> None:
    """Choose rows of ``walk`` in order until ``remaining`` are added (None: all), skipping
    chosen rows and marking rows whose source is at its cap; a block of rows at a time, so
    the walk never becomes a Python list whole."""
    for start in range(0, len(walk), FILL_BLOCK):
        block = walk[start : start + FILL_BLOCK]
        for row, code in zip(block.tolist(), source_code[block].tolist(), strict=True):
            if chosen[row]:
                continue
            if count[code] >= cap[code]:
                capped[row] = True
                continue
            chosen[row] = True
            count[code] += 1
            if remaining is not None:
                remaining -= 1
                if remaining <= 0:
                    return


def select_pairs(
    candidates: pd.DataFrame, params: SelectionParams, log: Any = None
) -> pd.DataFrame:
    """Decide every candidate: one row per pair with its reason, rank and related id.

    ``candidates`` has ``id, source, score, instruction, response`` and optionally
    ``degenerate_reason`` and ``origin_file, origin_line`` (the input order of
    ``dedup_keep="first"``; without them the row order is the input order). Returns
    ``pair_id, source, selected, reason, rank, score, related_id`` sorted by rank (ineligible
    rows last, by id); ``rank`` counts eligible rows only. ``attrs["notes"]`` lists edge cases
    met (empty cutoff, quota shortfalls, ...). With ``dedup_keep="score"`` the result does not
    depend on the input row order. ``log`` gets progress lines.
    """
    pool = prepare_pool(candidates)
    return decide(pool, frame_lookup(pool), params, log, chunk_rows=max(1, len(pool)))


@dataclass(frozen=True)
class PoolDecisions:
    """Every pool row's decision as numpy arrays over pool rows (the pool sorted by id): a few
    bytes per pair, where a decision frame holds strings. ``decisions_frame`` makes frames."""

    order: np.ndarray  # pool rows by rank, then the ineligible rows by id
    reason: np.ndarray  # int8 code into REASON_CODES, per pool row
    related: np.ndarray  # int64 pool row of the kept copy (-1: none), per pool row
    rank: np.ndarray  # int64 rank (0: ineligible), per pool row
    chosen: np.ndarray  # bool: selected, per pool row
    notes: list[str]

    @property
    def selected_rows(self) -> np.ndarray:
        """The selected pool rows in rank order."""
        return self.order[self.chosen[self.order]]

    @property
    def eligible(self) -> np.ndarray:
        """A bool mask of the ranked (eligible) pool rows."""
        return self.rank > 0

    def reason_counts(self) -> dict[str, int]:
        """Pool rows per reason name."""
        counts = np.bincount(self.reason, minlength=len(REASON_CODES))
        return {REASON_CODES[code]: int(n) for code, n in enumerate(counts) if n}


def decide_rows(
    pool: pd.DataFrame,
    texts: TextLookup,
    params: SelectionParams,
    log: Any = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> PoolDecisions:
    """``decide`` without the frame: every pool row's decision as arrays (``PoolDecisions``)."""
    reason, related = _filter(pool, texts, params, log, chunk_rows)
    scores = pool["score"].to_numpy(dtype="float64")
    source_code, sources = pd.factorize(pool["source"], sort=True)
    ranked = _rank_order(np.flatnonzero(reason == 0), scores)
    chosen, by_quota, notes = _cut(ranked, source_code, list(sources), scores, params)
    reason[ranked] = np.where(
        chosen[ranked],
        _CODE[schema.SELECTED],
        np.where(by_quota[ranked], _CODE[schema.SELECT_QUOTA], _CODE[schema.SELECT_BELOW_CUTOFF]),
    )
    rank = np.zeros(len(pool), dtype=np.int64)
    rank[ranked] = np.arange(1, len(ranked) + 1)
    order = np.concatenate([ranked, np.flatnonzero(rank == 0)])
    return PoolDecisions(order, reason, related, rank, chosen, notes)


def decisions_frame(
    pool: pd.DataFrame, decided: PoolDecisions, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """The decision frame (``DECISION_COLUMNS``) of pool ``rows`` in that order (default:
    every row, ``decided.order``); ``attrs["notes"]`` holds the run's notes."""
    rows = decided.order if rows is None else rows
    ids = pool["id"].array
    related = decided.related[rows]
    has_related = related >= 0
    related_id = np.full(len(rows), None, dtype=object)
    related_id[has_related] = ids.take(related[has_related]).to_numpy(dtype=object)
    rank = decided.rank[rows]
    frame = pd.DataFrame(
        {
            "pair_id": pd.Series(ids.take(rows), dtype="str"),
            "source": pd.Series(pool["source"].array.take(rows), dtype="str"),
            "selected": pd.Series(decided.chosen[rows], dtype="bool"),
            "reason": pd.Series(
                np.asarray(REASON_CODES, dtype=object)[decided.reason[rows]], dtype="str"
            ),
            "rank": pd.Series(pd.arrays.IntegerArray(rank, rank == 0), dtype="Int64"),
            "score": pd.Series(pool["score"].to_numpy(dtype="float64")[rows], dtype="float64"),
            "related_id": pd.Series(related_id, dtype="object"),
        },
        columns=list(DECISION_COLUMNS),
    )
    frame.attrs["notes"] = list(decided.notes)
    return frame


def decide(
    pool: pd.DataFrame,
    texts: TextLookup,
    params: SelectionParams,
    log: Any = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> pd.DataFrame:
    """``select_pairs`` on a pool without texts: ``texts`` fetches them ``chunk_rows`` at a time.

    ``pool`` has one row per pair, sorted by id: ``id, source, score, _degenerate`` (bool) and
    ``_order`` (input position). The state is numpy arrays over pool rows (a reason code, the
    related row, the rank: ``decide_rows``), so deciding costs a few bytes per pair beyond the
    pool itself; the frame is built once, in rank order.
    """
    return decisions_frame(pool, decide_rows(pool, texts, params, log, chunk_rows=chunk_rows))


def subset_version(
    selected_ids: Iterable[str], ranker_version: str, params: SelectionParams | Mapping[str, Any]
) -> str:
    """First 16 hex of sha256 over the sorted selected ids, ranker version and params JSON."""
    if isinstance(params, SelectionParams):
        config = params.to_json()
    else:
        config = json.dumps(dict(params), sort_keys=True, separators=(",", ":"))
    payload = "\n".join(sorted({str(i) for i in selected_ids}))
    digest = hashlib.sha256()
    for part in (payload, str(ranker_version), config):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]
