"""The data several benchmarks start from: a seeded synthetic landing zone in ``work/landing``
(``benchmarks/synthetic.py``, 4 sources) ingested by the library's streaming ``SourceReader``
(the parser, normalizer and duplicate check the ``raw_pairs`` asset uses) into one Parquet file
per source in ``work/raw_pairs`` (row groups of 10,000 rows) and ``work/quarantine``; or one
source of a landing zone materialized through the ``raw_pairs`` asset itself."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.synthetic import SOURCES, write_landing_zone

ROW_GROUP_ROWS = 10_000  # Parquet row groups: readers decompress one group at a time


def generate_landing(work: str | Path, rows: int, seed: int) -> dict[str, Any]:
    """Write the landing zone of ``rows`` records and its ``manifest.json`` (what was written)."""
    counts = write_landing_zone(Path(work) / "landing", rows, seed=seed)
    (Path(work) / "manifest.json").write_text(json.dumps([asdict(c) for c in counts]))
    return {"rows": rows, "sources": len(counts)}


def ingest_landing(work: str | Path) -> dict[str, Any]:
    """Ingest every source of ``work/landing``; return input, kept, duplicate and quarantined
    counts (``rows``: the input records)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from scar_dagster import schema
    from scar_dagster.ingest.pipeline import SourceReader, arrow_schema
    from scar_dagster.storage.stores import LocalStore

    work = Path(work)
    store = LocalStore(work / "landing")
    totals = dict.fromkeys(("input", "kept", "duplicates", "quarantined"), 0)
    for folder in ("raw_pairs", "quarantine"):
        (work / folder).mkdir(exist_ok=True)
    pair_schema = arrow_schema(schema.PAIR_COLUMNS)
    for spec in SOURCES:
        reader = SourceReader(store, spec.name, chunk_rows=ROW_GROUP_ROWS)
        dropped = []
        with pq.ParquetWriter(work / "raw_pairs" / f"{spec.name}.parquet", pair_schema) as writer:
            for pairs, bad in reader.chunks():
                writer.write_table(pa.Table.from_pandas(pairs, pair_schema, preserve_index=False))
                totals["kept"] += len(pairs)
                dropped.append(bad)
        quarantine = pd.concat(dropped, ignore_index=True)
        quarantine.to_parquet(work / "quarantine" / f"{spec.name}.parquet", index=False)
        duplicates = int((quarantine["reason"] == schema.INGEST_DUPLICATE).sum())
        totals["input"] += reader.input_records
        totals["duplicates"] += duplicates
        totals["quarantined"] += len(quarantine) - duplicates
    return {"rows": totals["input"], **totals}


def raw_files(work: str | Path) -> list[Path]:
    """The per-source ``raw_pairs`` Parquet files, sorted."""
    return sorted((Path(work) / "raw_pairs").glob("*.parquet"))


def materialize_ingest(home: str | Path, landing: str | Path, source: str) -> Any:
    """Materialize ``raw_pairs`` + ``raw_quarantine`` of one source (and their checks) into the
    storage root ``home``, on an ephemeral instance; the ``materialize`` result."""
    from dagster import DagsterInstance, materialize

    from assets import ingest
    from definitions import build_resources

    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", [source])
        return materialize(
            [ingest.ingest_source_assets],
            partition_key=source,
            instance=instance,
            resources=build_resources(str(home), str(landing)),
        )
