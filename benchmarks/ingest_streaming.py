"""Ingest memory: whole-file ``json.loads`` (the old JSON reader) against the streaming readers.

A seeded ShareGPT-style JSON array (~150 MB by default, distinct conversations) is written to
a temp dir (not kept), once plain and once as ``.json.gz``. Each mode runs in its own
subprocess (``benchmarks.harness.run_stage``) so that peak RSS (``VmHWM``) is that mode's
alone, next to the RSS after imports:

* ``json.loads`` — the old reader: read the file, decode, ``json.loads`` the whole array, walk
  its records (no normalization).
* ``read_records`` — the streaming reader (``ijson``), same walk.
* ``ingest_source`` — streaming reader + normalize + dedup, every pair in one DataFrame.
* ``write_source`` — what the ``raw_pairs`` asset runs: the same into Parquet row groups.
* ``write_source .json.gz`` — the same from the gzip file.

    .venv/bin/python -m benchmarks.ingest_streaming [--mb 150] [--seed 0]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import machine_line, run_stage
from benchmarks.synthetic import write_dump

MODES = ("json.loads", "read_records", "ingest_source", "write_source", "write_source .json.gz")
IMPORTS = (
    "scar_dagster.ingest.pipeline",
    "scar_dagster.ingest.readers",
    "scar_dagster.storage.stores",
)


def run_mode(mode: str, work: str) -> dict[str, Any]:
    """Run one mode in this process; return its records and seconds."""
    from scar_dagster.ingest.pipeline import ingest_source, write_source
    from scar_dagster.ingest.readers import read_records
    from scar_dagster.storage.stores import LocalStore

    out, landing = Path(work), Path(work) / "landing"
    started = time.perf_counter()
    path = landing / "plain" / "dump.json"
    if mode == "json.loads":
        records = len(json.loads(path.read_bytes().decode("utf-8-sig")))
    elif mode == "read_records":
        with path.open("rb") as stream:
            records = sum(1 for _ in read_records(path.name, stream))
    elif mode == "ingest_source":
        result = ingest_source(LocalStore(landing), "plain")
        records = result.input_records
    else:
        source = "gz" if mode.endswith(".json.gz") else "plain"
        written = write_source(
            LocalStore(landing), source, out / "pairs.parquet", out / "dropped.parquet"
        )
        records = written.input_records
    return {"mode": mode, "records": records, "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=150, help="size of the generated JSON array")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="scar-ingest-bench-"))
    try:
        plain = work / "landing" / "plain" / "dump.json"
        plain.parent.mkdir(parents=True)
        count = write_dump(plain, args.mb, args.seed)
        (work / "landing" / "gz").mkdir()
        with (
            plain.open("rb") as src,
            gzip.open(work / "landing" / "gz" / "dump.json.gz", "wb", 1) as dst,
        ):
            shutil.copyfileobj(src, dst, 1 << 20)
        size_mb = plain.stat().st_size / 1e6
        gz_mb = (work / "landing" / "gz" / "dump.json.gz").stat().st_size / 1e6
        print(machine_line("at start"))
        print(
            f"Data: seeded (seed {args.seed}) synthetic ShareGPT JSON array, {count:,} "
            f"conversations, {size_mb:.0f} MB ({gz_mb:.0f} MB as .json.gz, gzip level 1); "
            "one subprocess per mode, peak RSS = VmHWM\n"
        )
        print("| mode | records | seconds | records/s | peak RSS MB | RSS after imports MB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for mode in MODES:
            row = run_stage(run_mode, {"mode": mode, "work": work}, imports=IMPORTS)
            print(
                f"| {mode} | {row['records']:,} | {row['seconds']:.1f} | "
                f"{row['records'] / row['seconds']:,.0f} | {row['peak_rss_mb']:.0f} | "
                f"{row['import_rss_mb']:.0f} |",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
