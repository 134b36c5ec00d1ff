"""The SCAR toolkit's selection rules written out plainly, for tests: what its
``examples/filter_pipeline.py`` (not shipped in the ``scar-tool`` wheel) does before ranking,
and the grouping loop of its ``style_ranker/dedup.py``, re-implemented from their description.

Used as an oracle where the toolkit itself cannot run (its pipeline script is not packaged)
and to compose the toolkit's own ``lsh_near_deduplication`` / ``rank_and_filter`` with its
pipeline's first two steps.
"""

from __future__ import annotations

import re


def toolkit_is_english(text: str) -> bool:
    """More than 70% of all characters are ``[a-zA-Z]`` (0 for an empty text)."""
    share = len(re.findall("[a-zA-Z]", text)) / len(text) * 100 if text else 0
    return share > 70


def toolkit_exact_dedup(rows: list[dict]) -> list[dict]:
    """The first row of each ``(instruction.strip(), output.strip())``."""
    seen, kept = set(), []
    for row in rows:
        key = (row["instruction"].strip(), row["output"].strip())
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def toolkit_clusters(pairs: list[tuple[int, int]]) -> list[set[int]]:
    """The toolkit's "simple clustering": a pair joins the first cluster holding either row."""
    clusters: list[set[int]] = []
    for i, j in pairs:
        for cluster in clusters:
            if i in cluster or j in cluster:
                cluster.update((i, j))
                break
        else:
            clusters.append({i, j})
    return clusters


def toolkit_distinct(clusters: list[set[int]], n: int) -> list[int]:
    """Rows in no cluster plus the lowest row of each cluster, ascending."""
    clustered = set().union(*clusters) if clusters else set()
    return sorted((set(range(n)) - clustered) | {min(c) for c in clusters})


def jaccard_pairs(sets: list[frozenset], threshold: float) -> list[tuple[int, int]]:
    """Every pair ``i < j`` with ``|a & b| / |a | b| >= threshold``, by comparing all pairs."""
    pairs = []
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            union = len(sets[i] | sets[j])
            if union and len(sets[i] & sets[j]) / union >= threshold:
                pairs.append((i, j))
    return pairs
