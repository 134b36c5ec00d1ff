"""A content digest of DataFrames, hashed one frame at a time.

The digest of a stream of frames equals that of their concatenation, so a step that writes its
output batch by batch can version it without holding it (the Dagster layer wraps the digest in
a ``DataVersion``: ``scar_dagster.dagster.versions``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import pandas as pd

DIGEST_CHARS = 24


def frames_digest(dtypes: pd.Series, frames: Iterable[pd.DataFrame], *context: str) -> str:
    """sha256 of the column names and ``dtypes``, every row's hash in order (frame after frame),
    and ``context`` strings (e.g. the model version that produced the rows); 24 hex characters.

    Every frame must have exactly ``dtypes`` (names, order and types), else ``ValueError``."""
    columns = [[str(name), str(dtype)] for name, dtype in dtypes.items()]
    digest = hashlib.sha256(json.dumps([list(context), columns]).encode())
    for frame in frames:
        if [[str(n), str(d)] for n, d in frame.dtypes.items()] != columns:
            raise ValueError(f"a frame's columns differ from {columns}")
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:DIGEST_CHARS]
