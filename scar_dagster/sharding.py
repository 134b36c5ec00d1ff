"""Shards of a data source: the pairs of one source split into N stable parts by pair id.

A pair's bucket is the first 8 bytes of the blake2b digest of its id (UTF-8), read big-endian,
modulo ``BUCKETS`` (256); its shard of N is its bucket modulo N. Both are the same on every
machine, Python process and run (Python's ``hash()`` of a string is salted per process, so it
cannot be used), and independent of row order, file layout and of the other pairs.

Every shard count maps onto the buckets, so a file stored bucket by bucket
(``scar_dagster.storage.shard_layout``) serves any N: shard k of N reads the buckets
``k, k + N, k + 2N, ...`` and nothing else. Changing N moves pairs between shards; scores stay
valid (they are keyed by pair id). For N dividing 256 the shard is also the digest modulo N.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

BUCKETS = 256  # the most shards a source can have; every N <= BUCKETS maps onto them


def check_shard_count(shards: int) -> int:
    """Return ``shards`` if it is a whole number in ``1 .. BUCKETS``, else raise ``ValueError``."""
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= BUCKETS:
        raise ValueError(f"the shard count must be a whole number in 1..{BUCKETS}, got {shards!r}")
    return shards


def check_shard(shard: int, shards: int) -> int:
    """Return ``shard`` if it is one of ``0 .. shards - 1``, else raise ``ValueError``."""
    check_shard_count(shards)
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is outside 0..{shards - 1}")
    return shard


def bucket_of(pair_id: str) -> int:
    """The bucket (``0 .. BUCKETS - 1``) of ``pair_id``."""
    digest = hashlib.blake2b(str(pair_id).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def buckets_of(pair_ids: Iterable[str]) -> np.ndarray:
    """The bucket of every id, in order (an int64 array)."""
    return np.fromiter((bucket_of(i) for i in pair_ids), dtype=np.int64)


def shard_of(pair_id: str, shards: int) -> int:
    """The shard (``0 .. shards - 1``) that ``pair_id`` belongs to."""
    return bucket_of(pair_id) % check_shard_count(shards)


def shards_of(pair_ids: Iterable[str], shards: int) -> np.ndarray:
    """The shard of every id, in order (an int64 array)."""
    check_shard_count(shards)
    return np.fromiter((shard_of(i, shards) for i in pair_ids), dtype=np.int64)


def buckets_of_shard(shard: int, shards: int) -> range:
    """The buckets whose pairs make up ``shard`` of ``shards``."""
    return range(check_shard(shard, shards), BUCKETS, shards)


def shard_rows(frame: pd.DataFrame, shard: int, shards: int, id_column: str = "id") -> pd.DataFrame:
    """The rows of ``frame`` whose ``id_column`` falls in ``shard`` of ``shards``, in their order
    (the frame itself when ``shards`` is 1)."""
    check_shard(shard, shards)
    if shards == 1:
        return frame
    mask = shards_of(frame[id_column].tolist(), shards) == shard
    return frame[mask].reset_index(drop=True)
