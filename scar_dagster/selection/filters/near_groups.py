"""Which rows the near-duplicate pairs drop: ours (only kept rows count) or the SCAR toolkit's
greedy groups (keep the lowest index of each group).

Both take every similar pair ``(i, j)``, ``i < j``, of rows in visiting order (positions), as
``set_join.similar_pairs`` gives them, and return the ``Dropped`` rows with the row each names.
"""

from __future__ import annotations

import numpy as np

from scar_dagster.selection.filters.base import Dropped


def _dropped(pairs: dict[int, int]) -> Dropped:
    rows = np.fromiter(pairs.keys(), dtype=np.int64, count=len(pairs))
    return Dropped(rows, np.fromiter(pairs.values(), dtype=np.int64, count=len(pairs)))


def first_kept_matches(pairs: np.ndarray) -> Dropped:
    """Rows visited in order; a row is dropped when it is similar to a row kept before it, and
    names the first such row. Duplicates do not chain through a dropped row: with A ~ B and
    B ~ C but not A ~ C, A and C stay."""
    by_later = pairs[np.lexsort((pairs[:, 0], pairs[:, 1]))] if len(pairs) else pairs
    dropped: dict[int, int] = {}
    for earlier, later in by_later.tolist():
        if later not in dropped and earlier not in dropped:
            dropped[later] = earlier
    return _dropped(dropped)


def toolkit_groups(pairs: np.ndarray) -> Dropped:
    """The SCAR toolkit's grouping (``style_ranker.dedup``): pairs taken in index order join the
    first group holding either row (else start one; groups are never merged), and every row
    of a group but its lowest is dropped unless it is the lowest of another group; a dropped
    row names the lowest row of the first group holding it. With A ~ B and B ~ C, C goes too.
    """
    first_group: dict[int, int] = {}  # row -> the first group holding it
    lowest: list[int] = []  # group -> its lowest row
    for i, j in pairs.tolist():  # sorted by i, then j: the toolkit's exhaustive pass order
        held = [first_group[r] for r in (i, j) if r in first_group]
        group = min(held) if held else len(lowest)
        if not held:
            lowest.append(i)
        lowest[group] = min(lowest[group], i)
        for row in (i, j):
            if first_group.get(row, group) >= group:
                first_group[row] = group
    kept = set(lowest)
    return _dropped(
        {row: lowest[group] for row, group in sorted(first_group.items()) if row not in kept}
    )
