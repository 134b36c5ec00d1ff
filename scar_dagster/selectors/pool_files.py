"""A pool from files, outside Dagster (``scar-dagster compare``): a data file, a source folder
or a landing zone (a folder of source folders), read by the ingest's own readers and
normalization (``scar_source.toml`` included), with what it drops."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd

from scar_dagster import schema


def read_pool(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(pairs, quarantine)`` of ``path``: a file (source = its stem), a folder of data files
    (one source) or a folder with source folders (a landing zone: each folder a source)."""
    from scar_dagster.ingest.pairs_file import read_pairs_any_format
    from scar_dagster.ingest.pipeline import ingest_source
    from scar_dagster.storage.stores import LocalStore

    path = Path(path)
    if path.is_file():
        pairs, _ = read_pairs_any_format(path)
        frame = pd.DataFrame([asdict(p) for p in pairs], columns=list(schema.PAIR_COLUMNS))
        return frame, pd.DataFrame(columns=list(schema.QUARANTINE_COLUMNS))
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if folders:  # a landing zone: its top-level files (a README) are not data
        store, sources = LocalStore(path), [p.name for p in folders]
    else:
        store, sources = LocalStore(path.parent), [path.name]
    kept, dropped = [], []
    for source in sources:
        result = ingest_source(store, source)
        kept.append(result.pairs)
        dropped.append(result.dropped)
    return pd.concat(kept, ignore_index=True), pd.concat(dropped, ignore_index=True)
