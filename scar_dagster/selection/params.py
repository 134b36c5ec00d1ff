"""What a selection selects (``SelectionParams``, part of the subset version) and how it runs
(``SelectionRun``, not part of it)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from scar_dagster.selection.filters.base import DedupOn
from scar_dagster.selection.filters.language import (
    DEFAULT_ENGLISH_THRESHOLD,
    ENGLISH_RULES,
    EnglishRule,
)
from scar_dagster.selection.filters.minhash import (
    DEFAULT_NEAR_THRESHOLD,
    DEFAULT_NGRAM_SIZE,
    DEFAULT_NUM_PERM,
)
from scar_dagster.selection.filters.near_dedup import NEAR_METHODS, NearMethod
from scar_dagster.selection.texts import DEFAULT_CHUNK_ROWS

DedupKeep = Literal["score", "first"]
DEDUP_KEEPS: tuple[DedupKeep, ...] = ("score", "first")
Compat = Literal["none", "reference"]
COMPATS: tuple[Compat, ...] = ("none", "reference")
# What ``compat="reference"`` sets: the SCAR toolkit's choices (``filter_pipeline.py``).
TOOLKIT_CHOICES = {
    "english_rule": "reference",
    "dedup_keep": "first",
    "dedup_on": "pair",
    "near_method": "exact",
}
# Fields left out of the versioned config at these values (the behaviour before they existed),
# so a subset version made before them stays the same.
_UNVERSIONED_DEFAULTS = {"compat": "none", "near_method": "lsh", "lsh_bands": None}
SelectionMode = Literal["auto", "memory", "streaming"]
SELECTION_MODES: tuple[SelectionMode, ...] = ("auto", "memory", "streaming")
DEFAULT_STREAMING_MIN_ROWS = 200_000


SCAR = "scar"


@dataclass(frozen=True)
class ScoredBy:
    """Whose scores rank the pool: the StyleRanker's (``selector="scar"``, ``version`` = the
    ranker version; from ``scored_pairs``) or another selector's (``version`` = the selector
    version, e.g. ``length-1a2b...``; from ``selector_scores``). The version is hashed into
    the subset version and recorded with the decisions."""

    selector: str
    version: str
    reason: str = field(default="", compare=False)  # why this selector: the report says it

    def __post_init__(self) -> None:
        if not self.selector or not self.version:
            raise ValueError(f"ScoredBy needs a selector and a version, got {self!r}")

    def note(self) -> str:
        """The report's line on what ranked the pool."""
        why = f": {self.reason}" if self.reason else ""
        return f"ranked by selector {self.selector} ({self.version}){why}"

    @property
    def from_ranker(self) -> bool:
        """True when the scores are the StyleRanker's (``scored_pairs``)."""
        return self.selector == SCAR


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
    earliest in input order). ``near_method="lsh"`` (default) confirms the pairs MinHash LSH
    proposes (``lsh_bands`` bands, default MinHashLSH's optimum for the threshold), ``"exact"``
    finds every pair at or above ``minhash_threshold``.

    ``compat="reference"`` reproduces the toolkit step by step: it sets ``english_rule``,
    ``dedup_keep`` and ``dedup_on`` to the toolkit's (``TOOLKIT_CHOICES``), and the filters use
    its exact-dedup key (stripped texts), its near-dedup tokens (nltk) and its greedy grouping
    over every similar pair (``docs/stages.md``, "Selecting what the SCAR toolkit selects").

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
    near_method: NearMethod = "lsh"
    lsh_bands: int | None = None
    compat: Compat = "none"

    def __post_init__(self) -> None:
        if self.compat not in COMPATS:
            raise ValueError(f"compat must be one of {COMPATS}, got {self.compat!r}")
        if self.compat == "reference":
            for name, value in TOOLKIT_CHOICES.items():
                object.__setattr__(self, name, value)
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
        if self.near_method not in NEAR_METHODS:
            raise ValueError(f"near_method must be one of {NEAR_METHODS}, got {self.near_method!r}")
        bands = self.lsh_bands
        if bands is not None and (
            isinstance(bands, bool) or not isinstance(bands, int) or not 1 <= bands <= self.num_perm
        ):
            raise ValueError(f"lsh_bands must be None or an int in [1, num_perm], got {bands!r}")
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
        """Canonical JSON (sorted keys, no spaces): the form hashed into subset versions (a
        field at its value of ``_UNVERSIONED_DEFAULTS`` left out)."""
        values = {
            name: value
            for name, value in self.to_dict().items()
            if _UNVERSIONED_DEFAULTS.get(name, object()) != value
        }
        return json.dumps(values, sort_keys=True, separators=(",", ":"))

    def __hash__(self) -> int:
        return hash(self.to_json())


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class SelectionRun:
    """How a selection executes (not what it selects: it is not part of the subset version).

    ``mode`` says where the texts of lazy Parquet inputs are read from: ``memory`` reads
    every text at once, ``streaming`` spools them once to a temporary SQLite file and reads
    ``chunk_rows`` at a time; ``auto`` streams a pool of at least ``streaming_min_rows`` kept
    pairs. Frames given in memory are read in place either way. Both give the same subset.
    """

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
