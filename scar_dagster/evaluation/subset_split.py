"""The training sets of a subset evaluation and the held-out instructions none of them sees.

The rule (docs/evaluation.md):

1. The **eligible pool** is every pair of the subset version that passed the filters (exact and
   near dedup, language, degenerate features) and was scored: its ``selection_decisions`` rows
   with a rank (``selected``, ``select_below_cutoff``, ``select_quota``).
2. The **held-out instructions** are a user file, or a seeded draw of ``size`` distinct
   instructions from the eligible pool (each with one of its pairs' responses as reference).
3. Every pair of the pool whose instruction equals a held-out one (after whitespace and case
   folding) leaves the pool, wherever it is: no training set ever holds a held-out instruction.
4. ``scar`` = the subset's pairs left; ``random`` = a seeded draw of the same number of pairs
   from the pool left (the paper's control); ``full`` = the whole pool left.

So the subset and its control have equal sizes and come from the same pool.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scar_dagster.selection.report import random_subset_ids

SCAR, RANDOM, FULL = "scar", "random", "full"
ARMS: tuple[str, ...] = (SCAR, RANDOM, FULL)
PAIR_TEXT_COLUMNS = ("id", "instruction", "response")
_SPACE = re.compile(r"\s+")


def instruction_key(text: str) -> str:
    """An instruction compared for leaks: whitespace collapsed, case folded."""
    return _SPACE.sub(" ", str(text)).strip().casefold()


@dataclass(frozen=True)
class EvaluationSplit:
    """The held-out rows (``instruction``, ``response``) and one training frame per arm."""

    heldout: pd.DataFrame
    heldout_origin: str
    arms: dict[str, pd.DataFrame]
    pool_rows: int
    removed_for_heldout: int
    notes: list[str] = field(default_factory=list)

    def sizes(self) -> dict[str, int]:
        """Training rows per arm."""
        return {arm: len(frame) for arm, frame in self.arms.items()}


def eligible_ids(decisions: pd.DataFrame) -> list[str]:
    """Pair ids of the eligible pool: decisions with a rank (rank 0 / null: filtered out)."""
    ranked = pd.to_numeric(decisions["rank"], errors="coerce").fillna(0) > 0
    return sorted(decisions.loc[ranked, "id"].astype(str).unique())


def draw_heldout(pool: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    """``size`` pool pairs with distinct instructions, drawn by instruction with ``seed``
    (the lowest id answers an instruction asked more than once)."""
    if size < 1:
        raise ValueError(f"need a held-out size >= 1, got {size}")
    keyed = pool.assign(key=pool["instruction"].map(instruction_key)).sort_values(
        ["key", "id"], kind="mergesort"
    )
    first = keyed.drop_duplicates("key")
    if len(first) <= size:
        raise ValueError(
            f"the pool has {len(first)} distinct instructions: too few to hold out {size} and "
            "still train on the rest (lower heldout_size)"
        )
    chosen = set(random_subset_ids(first["key"], size, seed))
    rows = first[first["key"].isin(chosen)]
    return rows.loc[:, list(PAIR_TEXT_COLUMNS)].reset_index(drop=True)


def split_for_evaluation(
    pool: pd.DataFrame,
    subset_ids: list[str],
    *,
    heldout_size: int,
    seed: int,
    heldout: pd.DataFrame | None = None,
    heldout_origin: str | None = None,
    include_full: bool = True,
) -> EvaluationSplit:
    """The held-out rows and the ``scar``/``random``/``full`` training sets (module docstring).

    ``pool`` has ``id, instruction, response`` of every eligible pair; ``subset_ids`` are the
    selected ids (all in the pool). ``heldout`` (``instruction``, ``response``) replaces the
    seeded draw when given.
    """
    pool = pool.loc[:, list(PAIR_TEXT_COLUMNS)].drop_duplicates("id").sort_values("id")
    unknown = sorted(set(map(str, subset_ids)) - set(pool["id"]))
    if unknown:
        raise ValueError(f"{len(unknown)} subset ids are not in the eligible pool: {unknown[:3]}")
    if heldout is None:
        heldout = draw_heldout(pool, heldout_size, seed)
        heldout_origin = f"seeded draw (seed {seed}) of {len(heldout)} pool instructions"
    keys = set(heldout["instruction"].map(instruction_key))
    leak = pool["instruction"].map(instruction_key).isin(keys)
    left = pool[~leak].reset_index(drop=True)
    scar = left[left["id"].isin(set(map(str, subset_ids)))].reset_index(drop=True)
    if scar.empty:
        raise ValueError("no subset pair is left once the held-out instructions are removed")
    random_ids = set(random_subset_ids(left["id"], len(scar), seed))
    arms = {SCAR: scar, RANDOM: left[left["id"].isin(random_ids)].reset_index(drop=True)}
    if include_full:
        arms[FULL] = left
    notes = []
    if len(scar) < len(subset_ids):
        notes.append(
            f"{len(subset_ids) - len(scar)} subset pairs share a held-out instruction and were "
            "left out of every training set"
        )
    return EvaluationSplit(
        heldout=heldout.loc[:, ["instruction", "response"]].reset_index(drop=True),
        heldout_origin=heldout_origin or "user file",
        arms=arms,
        pool_rows=len(pool),
        removed_for_heldout=int(leak.sum()),
        notes=notes,
    )


def pool_from_decisions(
    decisions: pd.DataFrame, texts_of: Callable[[list[str]], pd.DataFrame]
) -> tuple[pd.DataFrame, list[str]]:
    """``(pool, subset_ids)`` of one subset version: the eligible pairs with their texts
    (``texts_of(ids)`` returns ``id, instruction, response``) and the selected ids."""
    ids = eligible_ids(decisions)
    pool = texts_of(ids).loc[:, list(PAIR_TEXT_COLUMNS)].drop_duplicates("id")
    lost = sorted(set(ids) - set(pool["id"].astype(str)))
    if lost:
        raise ValueError(f"{len(lost)} eligible pairs have no text in raw_pairs: {lost[:3]}")
    chosen = decisions.loc[decisions["selected"].astype(bool), "id"].astype(str)
    return pool.reset_index(drop=True), sorted(chosen)


def heldout_from_file(path: str | Path) -> pd.DataFrame:
    """A user's held-out set (Alpaca JSONL or instruction/response rows) as a frame."""
    from scar_dagster.finetune.chats import load_subset

    pairs = load_subset(path)
    return pd.DataFrame(pairs, columns=["instruction", "response"])
