"""A shard's read of ``raw_pairs``: bytes read and peak memory for N = 1 and 4 shards.

Setup (stage ``ingest``, timed): one seeded synthetic source (``benchmarks/synthetic.py``) of
``--rows`` records is ingested by ``write_source``, the function the ``raw_pairs`` asset runs,
into the shard layout (one bucket of the pair id per row group). Then each case runs in a fresh
interpreter (``benchmarks.harness``) and reads the columns the features step reads of one shard,
batch by batch, as ``batches_of_partition`` does:

- ``layout``: ``ParquetPart.iter_shard_batches`` (only the shard's row groups);
- ``whole + filter``: every batch of the file filtered by pair id (what each shard did before).

Read bytes are the process's ``rchar`` (``/proc/self/io``) during the read, so they count what
pyarrow read through the kernel, page cache or not.

    .venv/bin/python -m benchmarks.shard_reads [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import Stage, machine_line
from benchmarks.synthetic import SOURCES, Vocabulary, write_source


def _rchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("no rchar in /proc/self/io")


def ingest(landing: str, out: str, source: str) -> dict[str, Any]:
    """Ingest ``source`` into ``out/raw_pairs.parquet`` in the shard layout."""
    from scar_dagster.ingest.pipeline import write_source as ingest_source
    from scar_dagster.storage.stores import LocalStore

    written = ingest_source(
        LocalStore(landing), source, Path(out) / "raw_pairs.parquet", Path(out) / "dropped.parquet"
    )
    return {"rows": written.kept}


def read_shard(folder: str, shard: int, shards: int, mode: str) -> dict[str, Any]:
    """Read the features columns of ``shard`` of ``shards`` (``mode``: layout or whole)."""
    import time

    from scar_dagster.sharding import shard_rows
    from scar_dagster.storage.parquet_parts import ParquetPart
    from scar_dagster.storage.stores import LocalStore
    from scar_dagster.style.features import INPUT_COLUMNS

    part = ParquetPart(LocalStore(folder), "raw_pairs.parquet")
    start, before, rows = time.perf_counter(), _rchar(), 0
    if mode == "layout":
        batches = part.iter_shard_batches(shard, shards, INPUT_COLUMNS)
    else:
        batches = (shard_rows(b, shard, shards) for b in part.iter_batches(INPUT_COLUMNS))
    for batch in batches:
        rows += len(batch)
    return {"rows": rows, "read_bytes": _rchar() - before, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(machine_line())
    spec = SOURCES[0]
    with tempfile.TemporaryDirectory(prefix="scar-shard-reads-") as work:
        landing, out = Path(work) / "landing", Path(work) / "out"
        out.mkdir()
        write_source(landing, spec, args.rows, Vocabulary(args.seed), args.seed, 50_000)
        setup = Stage(ingest, {"landing": str(landing), "out": str(out), "source": spec.name})
        done = setup.result()
        size = (out / "raw_pairs.parquet").stat().st_size
        print(
            f"\ningest ({done['rows']:,} kept pairs, shard layout): {done['seconds']:.1f} s, "
            f"peak RSS {done['peak_rss_mb']:.0f} MB; raw_pairs {size / 1e6:.1f} MB"
        )
        print("\n| N | read | shard rows | read MB | share of file | peak RSS MB | seconds |")
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        for shards, mode in ((1, "layout"), (4, "layout"), (4, "whole")):
            result = Stage(
                read_shard, {"folder": str(out), "shard": 0, "shards": shards, "mode": mode}
            ).result()
            label = "only its row groups" if mode == "layout" else "whole + filter (before)"
            print(
                f"| {shards} | {label} | {result['rows']:,} | {result['read_bytes'] / 1e6:.1f} | "
                f"{result['read_bytes'] / size:.2f} | {result['peak_rss_mb']:.0f} | "
                f"{result['seconds']:.1f} |"
            )


if __name__ == "__main__":
    main()
