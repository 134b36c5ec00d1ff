"""Ingest memory: whole-file ``json.loads`` (the old JSON reader) against the streaming readers.

A seeded ShareGPT-style JSON array (~150 MB by default, distinct conversations) is written to
a temp dir (not kept), once plain and once as ``.json.gz``. Each mode runs in its own
subprocess so that peak RSS (``VmHWM``) is that mode's alone, next to the RSS after imports:

* ``json.loads`` — the old reader: read the file, decode, ``json.loads`` the whole array, walk
  its records (no normalization).
* ``read_records`` — the streaming reader (``ijson``), same walk.
* ``ingest_source`` — streaming reader + normalize + dedup, every pair in one DataFrame.
* ``write_source`` — what the ``raw_pairs`` asset runs: the same into Parquet row groups.
* ``write_source .json.gz`` — the same from the gzip file.

    PYTHONPATH=. .venv/bin/python benchmarks/ingest_streaming.py [--mb 150] [--seed 0]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.scale import proc_status_mb  # noqa: E402
from benchmarks.style_features import synthetic_text  # noqa: E402

MODES = ("json.loads", "read_records", "ingest_source", "write_source", "write_source .json.gz")


def write_dump(path: Path, target_mb: int, seed: int) -> int:
    """Write a ShareGPT-format JSON array of about ``target_mb`` MB; return its record count."""
    rng = random.Random(seed)
    written, count = 0, 0
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        while written < target_mb * 1_000_000:
            record = {
                "id": f"conv-{count}",
                "conversations": [
                    {"from": "human", "value": f"({count}) {synthetic_text(rng, 8, 30)}"},
                    {"from": "gpt", "value": synthetic_text(rng, 80, 400)},
                ],
            }
            text = ("," if count else "") + json.dumps(record)
            out.write(text)
            written += len(text)
            count += 1
        out.write("]")
    return count


def cut_dump(path: Path, share: float) -> tuple[int, int]:
    """Cut the dump in the middle of a record at about ``share`` of its bytes.

    Returns ``(complete_records, cut_offset)``.
    """
    data = path.read_bytes()
    cut = int(len(data) * share)
    marker = b'{"id": "conv-'
    starts = data.count(marker, 0, cut)
    while data[cut - 1 : cut + 1] in (b"},", b"}]") or data.startswith(marker, cut):
        cut += 7  # not on a record boundary
    path.write_bytes(data[:cut])
    return starts - 1, cut  # the last record started before the cut is incomplete


def cpu_info() -> tuple[str, str]:
    """CPU model name and flags from /proc/cpuinfo."""
    fields = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields.get("model name", "unknown"), fields.get("flags", "unknown")


def run_mode(mode: str, landing: Path, out: Path) -> dict:
    """Run one mode in this process; return records, seconds and memory figures."""
    from scar_dagster.ingest.pipeline import ingest_source, write_source
    from scar_dagster.ingest.readers import read_records
    from scar_dagster.storage.stores import LocalStore

    baseline = proc_status_mb("VmRSS")
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
    seconds = time.perf_counter() - started
    return {
        "mode": mode,
        "records": records,
        "seconds": seconds,
        "import_rss_mb": baseline,
        "peak_rss_mb": proc_status_mb("VmHWM"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=150, help="size of the generated JSON array")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:  # a child process
        print(json.dumps(run_mode(args.mode, args.workdir / "landing", args.workdir)))
        return
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
        model, flags = cpu_info()
        print(f"CPU: {model}, {os.cpu_count()} logical cores")
        print(f"CPU flags: {flags}")
        print(f"Load average (1 min) at start: {os.getloadavg()[0]:.2f} (a shared machine)")
        print(
            f"Data: seeded (seed {args.seed}) synthetic ShareGPT JSON array, {count:,} "
            f"conversations, {size_mb:.0f} MB ({gz_mb:.0f} MB as .json.gz, gzip level 1); "
            "one subprocess per mode, peak RSS = VmHWM\n"
        )
        print("| mode | records | seconds | records/s | peak RSS MB | RSS after imports MB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for mode in MODES:
            argv = [sys.executable, __file__, "--mode", mode, "--workdir", str(work)]
            done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
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
