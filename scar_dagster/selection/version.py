"""The subset version: a hash of what was selected, by which ranker, under which config."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from scar_dagster.selection.params import SelectionParams


def subset_version(
    selected_ids: Iterable[str], ranker_version: str, params: SelectionParams
) -> str:
    """First 16 hex of sha256 over the sorted selected ids, ranker version and params JSON."""
    config = params.to_json()
    payload = "\n".join(sorted({str(i) for i in selected_ids}))
    digest = hashlib.sha256()
    for part in (payload, str(ranker_version), config):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]
