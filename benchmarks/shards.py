"""Shards through the assets: features + scores of one source, 1 shard in 1 process vs 2 shards
in 2 processes at once, on the same data.

Setup (not timed): one synthetic source (``benchmarks/synthetic.py``) is ingested by the
``raw_pairs`` asset, and a ranker (the real all-MiniLM-L6-v2 encoder with a seeded random head,
as in ``benchmarks/incremental.py``) is published as champion. Each case then starts fresh
worker processes on a copy of that storage root with an empty scores database; each worker
materializes ``style_features`` and ``scored_pairs`` (and their checks) of one partition with
``materialize()`` from ``build_definitions(shards)`` and the default models (SmolLM2-135M
perplexity, MiniLM relatedness), every model in each of ``--dtypes`` (float32 and bfloat16 by
default: the cases run once per dtype). The wall time of a case runs from starting its workers
to the last one finishing (Python start, imports and model loading included: every process
pays them). Every worker has ``OMP_NUM_THREADS=MKL_NUM_THREADS=1`` unless ``--threads-case``
adds the case "1 shard, 1 process, 2 torch threads" (the same 2 cores used without shards).
The CPU seconds each worker spent inside ``materialize()`` are printed beside the wall times:
on a machine without a free core per worker, the wall time cannot show the split of the work.

    .venv/bin/python -m benchmarks.shards [--rows 60] [--threads-case]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Stage, bench_env, machine_line, materialize_ingest, publish_champion
from benchmarks.synthetic import SOURCES, Vocabulary, write_source


def prepare(work: Path, rows: int, seed: int) -> tuple[Path, Path, str]:
    """Landing zone with one source, its raw_pairs, and a champion ranker; returns
    ``(landing, home, source)``."""
    spec = SOURCES[0]
    landing, home = work / "landing", work / "home"
    write_source(landing, spec, rows, Vocabulary(seed), seed, 50_000)
    if not materialize_ingest(home, landing, spec.name).success:
        raise SystemExit("ingest failed")
    publish_champion(home, work, tiny=False)
    return landing, home, spec.name


def worker(
    home: str, landing: str, database: str, source: str, shards: int, shard: int, dtype: str
) -> dict[str, Any]:
    """Materialize features + scores of one partition (a stage run by ``benchmarks.harness``)."""
    from dagster import AssetSelection, DagsterInstance, MultiPartitionKey, materialize

    from definitions import build_definitions, build_resources
    from scar_dagster.dagster.resources import EncoderResource, InstructLMResource

    key: Any = source
    if shards > 1:
        key = MultiPartitionKey({"data_source": source, "shard": str(shard)})
    resources = build_resources(home, landing, database)
    resources["encoder"] = EncoderResource(dtype=dtype)
    lm = resources["instruct_lm"]
    resources["instruct_lm"] = InstructLMResource(cache_dir=lm.cache_dir, dtype=dtype)
    defs = build_definitions(shards, resources=resources)
    start, cpu_start = time.perf_counter(), time.process_time()
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", [source])
        result = materialize(
            assets=list(defs.assets) + list(defs.asset_checks),
            selection=AssetSelection.groups("features", "scoring"),
            partition_key=key,
            instance=instance,
            resources=resources,
            run_config={"ops": {"scored_pairs": {"config": {"dtype": dtype}}}},
        )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    meta = result.asset_materializations_for_node("scored_pairs")[0].metadata
    return {
        "shard": shard,
        "rows": meta["dagster/row_count"].value,
        "scored": meta["rows_scored"].value,
        "materialize_s": round(seconds, 1),
        "cpu_s": round(cpu, 1),
    }


def run_case(
    work: Path, home: Path, landing: Path, source: str, shards: int, threads: int, dtype: str
) -> tuple[float, list[dict[str, Any]]]:
    """Start one worker per shard at once on a fresh copy of ``home``; wait for all."""
    case = work / f"case-{shards}x{threads}-{dtype}"
    shutil.copytree(home, case)
    args = {"home": case, "landing": landing, "database": f"sqlite:///{case / 'scar.db'}"}
    args.update(source=source, shards=shards, dtype=dtype)
    start = time.perf_counter()
    running = [Stage(worker, {**args, "shard": k}, threads=threads) for k in range(shards)]
    workers = [process.result() for process in running]
    return time.perf_counter() - start, workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60, help="records of the source")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads-case", action="store_true", help="add 1 shard x 2 threads")
    parser.add_argument("--dtypes", default="float32,bfloat16", help="model dtypes, one run each")
    args = parser.parse_args()
    os.environ.update(bench_env(1))
    print(machine_line("at start"))
    dtypes = args.dtypes.split(",")
    cases = [(1, 1), (2, 1)] + ([(1, 2)] if args.threads_case else [])
    with tempfile.TemporaryDirectory(prefix="scar-shards-") as tmp:
        work = Path(tmp)
        landing, home, source = prepare(work, args.rows, args.seed)
        results = [
            (d, s, t, *run_case(work, home, landing, source, s, t, d))
            for d in dtypes
            for s, t in cases
        ]
    base = {d: wall for d, s, t, wall, _ in results if (s, t) == (1, 1)}
    print(
        f"\nsource {source}: {args.rows} synthetic records, features (SmolLM2-135M perplexity, "
        "MiniLM relatedness) + scores (MiniLM ranker, random head), in-distribution synthetic "
        "data; the dtype is that of every model (resources and the scoring config)\n"
    )
    print(
        "| dtype | shards | processes | torch threads each | rows per shard | wall s "
        "| vs 1 shard | vs float32 |"
    )
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for dtype, shards, threads, wall, workers in results:
        rows = "/".join(str(w["rows"]) for w in workers)
        same = next(
            (w for d, s, t, w, _ in results if d == "float32" and (s, t) == (shards, threads)), None
        )
        vs_fp32 = f"{same / wall:.2f}x" if same else ""
        print(
            f"| {dtype} | {shards} | {shards} | {threads} | {rows} | {wall:.1f} "
            f"| {base[dtype] / wall:.2f}x | {vs_fp32} |"
        )
    print(f"\n{machine_line('at the end')}")
    for dtype, shards, threads, _, workers in results:
        inner = ", ".join(
            f"shard {w['shard']}: {w['materialize_s']} s wall, {w['cpu_s']} s CPU" for w in workers
        )
        print(
            f"materialize() in the workers, {dtype}, {shards} shard(s) x {threads} "
            f"thread(s): {inner}"
        )


if __name__ == "__main__":
    main()
