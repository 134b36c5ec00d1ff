"""Length-aware batches for every model that runs over texts (ranker, instruct LM, encoder).

Inputs are sorted by token length within a bounded window (the caller's chunk of texts), and
batches are packed by a budget of padded tokens: each batch is padded only to its own longest
member, so little padding is computed, and a batch of short texts holds more of them than a
batch of long ones. Example::

    for batch in plan_batches([len(ids) for ids in encoded], batch_size=32, max_tokens=4096):
        run([encoded[i] for i in batch])
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_BATCH_TOKENS = 2048  # padded tokens per forward pass: small CPU batches, no waste


def plan_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[list[int]]:
    """Group text indices into batches: longest first (ties in input order), at most
    ``batch_size`` texts and at most ``max_tokens`` padded tokens per batch (a single longer
    text still gets its own batch)."""
    if batch_size < 1 or max_tokens < 1:
        raise ValueError(f"batch_size and max_tokens must be >= 1, got {batch_size}, {max_tokens}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    start = 0
    while start < len(order):
        longest = lengths[order[start]]
        size = max(1, min(batch_size, max_tokens // max(longest, 1)))
        batches.append(order[start : start + size])
        start += size
    return batches
