"""Shards of a data source: the pairs of one source split into N stable parts by pair id.

A pair's shard is the first 8 bytes of the blake2b digest of its id (UTF-8), read big-endian,
modulo N: the same on every machine, Python process and run (Python's ``hash()`` of a string is
salted per process, so it cannot be used), and independent of row order, file layout and of the
other pairs. Changing N moves pairs between shards; scores stay valid (they are keyed by pair id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pandas as pd


def check_shard_count(shards: int) -> int:
    """Return ``shards`` if it is a whole number >= 1, else raise ``ValueError``."""
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise ValueError(f"the shard count must be a whole number >= 1, got {shards!r}")
    return shards


def shard_of(pair_id: str, shards: int) -> int:
    """The shard (``0 .. shards - 1``) that ``pair_id`` belongs to."""
    check_shard_count(shards)
    digest = hashlib.blake2b(str(pair_id).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shards_of(pair_ids: Iterable[str], shards: int) -> np.ndarray:
    """The shard of every id, in order (an int64 array)."""
    check_shard_count(shards)
    return np.fromiter((shard_of(i, shards) for i in pair_ids), dtype=np.int64)


def shard_rows(frame: pd.DataFrame, shard: int, shards: int, id_column: str = "id") -> pd.DataFrame:
    """The rows of ``frame`` whose ``id_column`` falls in ``shard`` of ``shards``, in their order
    (the frame itself when ``shards`` is 1)."""
    check_shard_count(shards)
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is outside 0..{shards - 1}")
    if shards == 1:
        return frame
    mask = shards_of(frame[id_column].tolist(), shards) == shard
    return frame[mask].reset_index(drop=True)
