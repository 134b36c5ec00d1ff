"""Incremental scoring: after a full run, a fifth source with 1% of the rows is added.

The full run ingests and scores 4 synthetic sources (``benchmarks/synthetic.py``) through the
path the ``scored_pairs`` asset takes per partition: ``ingest_source`` -> ``score_new_pairs``
(scores the pairs not scored yet and upserts them, the asset's own function). The ranker is a
published checkpoint of the real all-MiniLM-L6-v2 encoder with a seeded random head. Then a
fifth source with 1% of the rows lands and every source goes through the same path again (an
upper bound: Dagster would materialize only the new partition); only the new pairs may be scored.
Both runs are made in float32 and again in bfloat16 (``score_with_checkpoint(..., dtype=...)``,
each dtype with its own scores database, as ``score_precision`` keeps them apart).

    .venv/bin/python -m benchmarks.incremental [--rows 1000] [--tiny-encoder]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import machine_line, publish_champion
from benchmarks.synthetic import (
    EXTRA_SOURCE,
    SOURCES,
    Vocabulary,
    write_landing_zone,
    write_source,
)


@dataclass(frozen=True)
class RunStats:
    """One pass over the sources: pool size, pairs scored and reused, wall time."""

    sources: int
    pool: int
    scored: int
    reused: int
    seconds: float


def score_source(
    landing: Any,
    assets: Any,
    engine: Any,
    source: str,
    version: str,
    cache_dir: Path,
    dtype: str = "float32",
) -> tuple[int, int, int]:
    """Ingest one source and score its pairs not yet scored by ``version``, as the asset does.

    Returns ``(kept pairs, pairs scored now, pairs reused)``.
    """
    from scar_dagster.ingest.pipeline import ingest_source
    from scar_dagster.precision import Precision
    from scar_dagster.ranker.inference.incremental import score_new_pairs

    pairs = ingest_source(landing, source).pairs
    result = score_new_pairs(
        assets, engine, version, pairs, cache_dir=cache_dir, precision=Precision("cpu", dtype)
    )
    return len(pairs), result.scored, result.reused


def score_all(
    landing: Any, assets: Any, engine: Any, version: str, work: Path, dtype: str = "float32"
) -> RunStats:
    """One pass of ``score_source`` over every source folder of the landing zone."""
    from scar_dagster.ingest.landing import scan_landing_zone

    sources = sorted(scan_landing_zone(landing).files)
    start = time.perf_counter()
    totals = [0, 0, 0]
    for source in sources:
        counts = score_source(landing, assets, engine, source, version, work / "cache", dtype)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    seconds = time.perf_counter() - start
    return RunStats(len(sources), *totals, seconds=seconds)


def run(
    rows: int, work: Path, *, seed: int = 0, tiny: bool = False, dtype: str = "float32"
) -> dict[str, Any]:
    """The full run over 4 sources, then the run after the fifth source lands (in ``work``)."""
    from scar_dagster.storage import tables
    from scar_dagster.storage.stores import LocalStore

    landing, assets = LocalStore(work / "landing"), LocalStore(work / "assets")
    write_landing_zone(landing.root, rows, seed=seed)
    engine = tables.create_engine_for(f"sqlite:///{work / 'scores.db'}")
    tables.ensure_schema(engine)
    version = publish_champion(work / "assets", work, tiny=tiny)
    full = score_all(landing, assets, engine, version, work, dtype)
    new_rows = max(1, rows // 100)
    added = write_source(landing.root, EXTRA_SOURCE, new_rows, Vocabulary(seed), seed, 50_000)
    again = score_all(landing, assets, engine, version, work, dtype)
    engine.dispose()
    return {"full": full, "incremental": again, "new_records": added.records, "version": version}


def print_table(results: dict[str, dict[str, Any]], rows: int, tiny: bool) -> None:
    """Per dtype, the two runs side by side and whether only the new pairs were scored."""
    first = next(iter(results.values()))
    encoder = "tiny random encoder" if tiny else "all-MiniLM-L6-v2"
    print(
        f"{rows:,} records over {len(SOURCES)} sources, then a fifth source "
        f"({EXTRA_SOURCE.name}) with {first['new_records']:,} records (1%); {encoder}, "
        f"seeded random head; threads={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print(f"{machine_line('at the end')}\n")
    print(
        "| run | dtype | sources | pairs in pool | pairs scored | pairs reused | seconds "
        "| vs full run | vs fp32 |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = results["float32"]
    for dtype, result in results.items():
        full = result["full"]
        for name, key in (("full run", "full"), ("after adding the fifth source", "incremental")):
            stats = result[key]
            print(
                f"| {name} | {dtype} | {stats.sources} | {stats.pool:,} | {stats.scored:,} "
                f"| {stats.reused:,} | {stats.seconds:.1f} | {stats.seconds / full.seconds:.1%} "
                f"| {base[key].seconds / stats.seconds:.2f}x |"
            )
    for dtype, result in results.items():
        full, again = result["full"], result["incremental"]
        new_pairs = again.pool - full.pool
        verdict = "yes" if again.scored == new_pairs else "NO"
        print(
            f"\n{dtype}: re-scored pairs = new pairs ({again.scored:,} = {new_pairs:,}): {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000, help="records in the first 4 sources")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny-encoder", action="store_true", help="tiny random encoder (tests)")
    args = parser.parse_args()
    results = {}
    for dtype in ("float32", "bfloat16"):
        with tempfile.TemporaryDirectory(prefix="scar-incremental-") as tmp:
            results[dtype] = run(
                args.rows, Path(tmp), seed=args.seed, tiny=args.tiny_encoder, dtype=dtype
            )
    print_table(results, args.rows, args.tiny_encoder)


if __name__ == "__main__":
    main()
