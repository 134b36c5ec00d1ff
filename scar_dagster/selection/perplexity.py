"""The perplexity a selection reads: of the subset, the pool and the random reference subset
that the report and the style gate compare, fetched through the perplexity cache.

Perplexity never ranks (the ``scar`` selector reads the style score), so it is fetched after
the decisions, for the rows of each figure: with ``all``, every row of it; with ``read`` (the
default), a seeded sample of at most ``sample_rows`` rows of it (``style.sampling.bottom_k``:
the samples of the three figures and the features' drift samples share their rows, so most
values come from the cache); with ``off``, none. The features' own perplexity column is read
only when no LM is given (a library caller whose pool already has the values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection.texts import TextLookup
from scar_dagster.style.features import READ_MODES, ReadMode
from scar_dagster.style.sampling import DEFAULT_SAMPLE_ROWS, DEFAULT_SAMPLE_SEED, bottom_k
from scar_dagster.style.surprisal_cache import PerplexityLM, perplexity_for

FIGURES = ("pool", "subset", "random")


@dataclass(frozen=True)
class PerplexityReads:
    """Which perplexities a selection reads and where it gets them (not part of the subset
    version). ``lm`` and ``store`` (a SQLAlchemy engine) compute and cache them; without an
    ``lm`` the pool's own values (from the features) are read."""

    mode: ReadMode = "read"
    sample_rows: int = DEFAULT_SAMPLE_ROWS
    sample_seed: int = DEFAULT_SAMPLE_SEED
    lm: PerplexityLM | None = None
    store: Any = None

    def __post_init__(self) -> None:
        if self.mode not in READ_MODES:
            raise ValueError(f"perplexity must be one of {READ_MODES}, got {self.mode!r}")
        if self.sample_rows < 1:
            raise ValueError(f"sample_rows must be >= 1, got {self.sample_rows}")


@dataclass(frozen=True)
class StyleFigures:
    """The row sets whose style spread the report and the gate compare (``members``: ``pool``,
    the valid pool rows; ``subset``, the selected rows; ``random``, a seeded random subset of
    the eligible rows of the subset's size), the rows of each whose perplexity enters it
    (``perplexity``), and what fetching those cost."""

    mode: ReadMode
    members: dict[str, np.ndarray]  # figure -> bool mask over pool rows
    perplexity: dict[str, np.ndarray]  # figure -> bool mask over pool rows
    computed: int = 0
    reused: int = 0
    model: dict[str, Any] = field(default_factory=dict)  # PerplexityLM.describe()
    sample_rows: int | None = None

    def metrics(self, pool: pd.DataFrame, figure: str) -> pd.DataFrame:
        """The style metrics of ``figure``'s rows, perplexity only where it enters it."""
        rows = np.flatnonzero(self.members[figure])
        frame = pool.iloc[rows][[c for c in STYLE_METRICS if c in pool.columns]].copy()
        if "perplexity" in frame.columns:
            frame.loc[~self.perplexity[figure][rows], "perplexity"] = np.nan
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: mode, sample size, perplexity rows per figure and of how many, cost."""
        return {
            "mode": self.mode,
            "sample_rows": self.sample_rows,
            "rows": {name: int(mask.sum()) for name, mask in self.perplexity.items()},
            "population": {name: int(mask.sum()) for name, mask in self.members.items()},
            "computed": self.computed,
            "reused": self.reused,
            **({"model": self.model} if self.model else {}),
        }

    def note(self) -> str:
        """One line for the report."""
        if self.mode == "off":
            return "perplexity: off (not computed; the style gate leaves it out)"
        counts = self.to_dict()
        rows = ", ".join(
            f"{name} {counts['rows'][name]:,} of {counts['population'][name]:,}" for name in FIGURES
        )
        how = "every row" if self.mode == "all" else f"seeded samples of <= {self.sample_rows:,}"
        cost = f"; {self.computed:,} computed, {self.reused:,} from the cache" if self.model else ""
        return f"perplexity: {self.mode} ({how}): {rows} rows{cost}"


def read_perplexity(
    pool: pd.DataFrame,
    subset: np.ndarray,
    random: np.ndarray,
    texts: TextLookup,
    reads: PerplexityReads,
) -> tuple[pd.DataFrame, StyleFigures]:
    """The pool with the perplexity of every figure's rows (NaN elsewhere; the pool's own
    values when ``reads`` has no LM), and the figures. ``subset`` and ``random`` are bool
    masks over pool rows: the selected rows and the random reference subset."""
    valid = ~pool["_degenerate"].to_numpy(dtype=bool)
    members = {"pool": valid, "subset": subset & valid, "random": random & valid}
    ids = pool["id"]
    if reads.mode == "off":
        rows = {name: np.zeros(len(pool), dtype=bool) for name in members}
    elif reads.mode == "all":
        rows = dict(members)
    else:
        k, seed = reads.sample_rows, reads.sample_seed
        rows = {name: bottom_k(ids, k, seed, among=mask) for name, mask in members.items()}
    options: dict[str, Any] = {"sample_rows": reads.sample_rows}
    if reads.lm is not None:
        fetch = np.flatnonzero(np.logical_or.reduce(list(rows.values())))
        values = np.full(len(pool), np.nan)
        found = perplexity_for(
            ids.iloc[fetch], _texts_of(ids.iloc[fetch], texts), reads.lm, reads.store
        )
        values[fetch] = found.perplexity
        pool = pool.assign(perplexity=values)
        options.update(computed=found.computed, reused=found.reused, model=reads.lm.describe())
    return pool, StyleFigures(reads.mode, members, rows, **options)


def _texts_of(
    ids: pd.Series, texts: TextLookup
) -> Callable[[np.ndarray], tuple[list[str], list[str]]]:
    """``positions -> (instructions, responses)`` of ``ids`` through the run's text lookup."""
    chosen = ids.astype(str).tolist()

    def at(positions: np.ndarray) -> tuple[list[str], list[str]]:
        wanted = [chosen[i] for i in positions]
        found = texts(wanted)
        return [found[i].instruction for i in wanted], [found[i].response for i in wanted]

    return at
