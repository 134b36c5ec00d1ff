"""Selection at scale through the ``selected_subset`` asset, and a damaged dump through ingest.

For each size a seeded synthetic landing zone (``benchmarks/synthetic.py``, 4 sources) is
written and ingested (the library's streaming ``SourceReader``, Parquet per source); every kept
pair gets synthetic form features (deterministic from its id, 0.1% degenerate) and a synthetic
score (from its id) in the SQLite ``scored_pairs`` table. Then the real ``selected_subset`` asset
body runs (direct invocation with its resources: decisions to SQL, exports, report) with
``ratio`` 0.1, ``min_per_source`` and ``max_per_source`` that bind, exact and MinHash near-dedup
on, once with ``mode=streaming`` and once with ``mode=memory``, each in its own subprocess
(``benchmarks.harness.run_stage``): peak RSS is that process's ``VmHWM``; ``load`` is handing
the asset its inputs as the IO manager does (``raw_pairs`` and ``style_features`` lazily, as
``ParquetPart`` handles; the small quarantine as frames), ``select`` the asset body (which
reads what its path needs).

``ingest_damaged``: a ShareGPT JSON array (``--dump-mb``) cut in the middle of a record is
materialized through the real ``raw_pairs`` asset (``ingest_source_assets``); kept must equal the
complete records before the cut, the tail one ``ingest_truncated_file`` quarantine row.

    .venv/bin/python -m benchmarks.selection_scale --sizes 100000 [--dump-mb 120]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    generate_landing,
    ingest_landing,
    machine_line,
    materialize_ingest,
    raw_files,
    rss_mb,
    run_stage,
)
from benchmarks.synthetic import cut_dump, synthetic_features, synthetic_scores, write_dump

RANKER_VERSION = "bench-selection"
SCORE_WRITE_ROWS = 20_000
MODES = ("streaming", "memory")
DAGSTER_IMPORTS = ("dagster", "assets.ingest", "definitions")  # before the baseline RSS


def selection_config(rows: int, mode: str, near_dedup: bool = True) -> dict[str, Any]:
    """Ratio 0.1 with quotas that bind: forum gets more than its share, guides less."""
    return {
        "ratio": 0.1,
        "min_per_source": {"forum": rows // 25},
        "max_per_source": {"guides": rows // 50},
        "near_dedup": near_dedup,
        "mode": mode,
    }


def stage_prepare(work: str, rows: int, seed: int) -> dict[str, Any]:
    """Landing zone, ingest, synthetic features per source and synthetic scores in SQLite."""
    import pandas as pd

    from scar_dagster.storage import tables

    started = time.perf_counter()
    generate_landing(work, rows, seed)
    ingested = ingest_landing(work)
    (Path(work) / "features").mkdir(exist_ok=True)
    engine = tables.create_engine_for(f"sqlite:///{Path(work) / 'scar.db'}")
    tables.ensure_schema(engine)
    for path in raw_files(work):
        pairs = pd.read_parquet(path, columns=["id", "source"])
        ids = pairs["id"].tolist()
        synthetic_features(ids).to_parquet(Path(work) / "features" / path.name, index=False)
        scores = pairs.assign(ranker_version=RANKER_VERSION, score=synthetic_scores(ids))
        for start in range(0, len(scores), SCORE_WRITE_ROWS):
            tables.upsert_scores(engine, scores.iloc[start : start + SCORE_WRITE_ROWS])
    engine.dispose()
    return {**ingested, "seconds": time.perf_counter() - started}


def _read_partitions(folder: Path) -> dict[str, Any]:
    import pandas as pd

    return {path.stem: pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))}


def _lazy_partitions(folder: Path) -> dict[str, Any]:
    """``{partition: ParquetPart}`` as the IO manager hands a lazy input over (no rows read)."""
    from scar_dagster.storage.parquet_parts import ParquetPart
    from scar_dagster.storage.stores import LocalStore

    store = LocalStore(folder)
    return {path.stem: ParquetPart(store, path.name) for path in sorted(folder.glob("*.parquet"))}


def stage_select(work: str, rows: int, mode: str, near_dedup: bool) -> dict[str, Any]:
    """The ``selected_subset`` asset body on the prepared inputs."""
    from dagster import Output, build_asset_context

    from assets.selection import selected_subset
    from definitions import build_resources
    from scar_dagster.dagster.run_config import SelectionConfig

    work = Path(work)
    baseline = rss_mb()
    started = time.perf_counter()
    inputs = {
        "raw_pairs": _lazy_partitions(work / "raw_pairs"),
        "raw_quarantine": _read_partitions(work / "quarantine"),
        "style_features": _lazy_partitions(work / "features"),
    }
    load_seconds, load_rss = time.perf_counter() - started, rss_mb()
    home = work / f"home_{mode}"
    resources = build_resources(str(home), str(work / "landing"), f"sqlite:///{work / 'scar.db'}")
    config = SelectionConfig(**selection_config(rows, mode, near_dedup))
    started = time.perf_counter()
    produced = selected_subset(
        context=build_asset_context(),
        config=config,
        **inputs,
        style_ranker={"champion_version": RANKER_VERSION},
        database=resources["database"],
        storage=resources["storage"],
    )
    outputs = [produced] if isinstance(produced, Output) else list(produced)  # it may yield
    output = next(o for o in outputs if isinstance(o, Output))
    select_seconds = time.perf_counter() - started
    meta = {key: getattr(value, "value", value) for key, value in output.metadata.items()}
    return {
        "mode": mode,
        "path": meta["selection_path"],
        "pairs": sum(part.num_rows for part in inputs["raw_pairs"].values()),
        "selected": meta["dagster/row_count"],
        "subset_version": meta["subset_version"],
        "decisions_by_reason": meta["decisions_by_reason"],
        "import_rss_mb": baseline,
        "load_seconds": load_seconds,
        "load_rss_mb": load_rss,
        "select_seconds": select_seconds,
    }


def stage_ingest_damaged(work: str, dump_mb: int, seed: int) -> dict[str, Any]:
    """A JSON array cut mid-record through the real ingest asset."""
    import pandas as pd

    work = Path(work)
    landing = work / "damaged_landing"
    (landing / "dump").mkdir(parents=True, exist_ok=True)
    dump = landing / "dump" / "dump.json"
    records = write_dump(dump, dump_mb, seed)
    complete, offset = cut_dump(dump, 0.9)
    size_mb = dump.stat().st_size / 1e6
    baseline = rss_mb()
    started = time.perf_counter()
    result = materialize_ingest(work / "damaged_home", landing, "dump")
    seconds = time.perf_counter() - started
    checks = [(c.check_name, c.passed) for c in result.get_asset_check_evaluations()]
    meta = {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("ingest_source")
    }
    quarantine = pd.read_parquet(
        work / "damaged_home" / "assets" / "raw_quarantine" / "dump.parquet"
    )
    return {
        "file_mb": size_mb,
        "records_written": records,
        "complete_records": complete,
        "cut_offset": offset,
        "kept": meta["raw_pairs"]["dagster/row_count"],
        "quarantine_reasons": quarantine["reason"].value_counts().to_dict(),
        "accounting_check": checks,
        "seconds": seconds,
        "import_rss_mb": baseline,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated row counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dump-mb", type=int, default=120, help="damaged dump size (MB)")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--skip-damaged", action="store_true")
    parser.add_argument(
        "--no-near-dedup", action="store_true", help="MinHash off (~1,000 texts/s on 1 core)"
    )
    parser.add_argument("--workdir", help="keep data here (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    print(f"{machine_line('at start')}; OMP_NUM_THREADS={threads}\n")
    base = Path(args.workdir or tempfile.mkdtemp(prefix="scar-selection-"))
    try:
        for rows in (int(s) for s in args.sizes.split(",")):
            work = base / f"rows_{rows}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            prep = run_stage(stage_prepare, {"work": work, "rows": rows, "seed": args.seed})
            print(
                f"rows={rows}: prepared {prep['kept']} kept pairs in {prep['seconds']:.0f} s "
                "(generate + ingest + synthetic features and scores; not timed below)"
            )
            near = "off" if args.no_near_dedup else "on"
            print(f"ratio 0.1, min_per_source forum, max_per_source guides, near-dedup {near}")
            print(
                "| SQL rows | mode | path | selected | load s | load RSS MB | select s "
                "| peak RSS MB |\n|---|---|---|---|---|---|---|---|"
            )
            versions = set()
            for mode in args.modes.split(","):
                select = {"work": work, "rows": rows, "mode": mode, "near_dedup": near == "on"}
                out = run_stage(stage_select, select)
                versions.add(out["subset_version"])
                print(
                    f"| {out['pairs']} | {mode} | {out['path']} | {out['selected']} "
                    f"| {out['load_seconds']:.1f} | {out['load_rss_mb']:.0f} "
                    f"| {out['select_seconds']:.1f} | {out['peak_rss_mb']:.0f} |"
                )
                reasons = out["decisions_by_reason"]
            print(f"decisions by reason: {json.dumps(reasons, sort_keys=True)}")
            print(f"same subset version on every path: {len(versions) == 1} {sorted(versions)}\n")
        if not args.skip_damaged:
            damaged = {"work": base, "dump_mb": args.dump_mb, "seed": args.seed}
            out = run_stage(stage_ingest_damaged, damaged, imports=DAGSTER_IMPORTS)
            print(
                f"damaged dump ({out['file_mb']:.0f} MB JSON array of {out['records_written']} "
                f"records cut at byte {out['cut_offset']}, mid-record) through the raw_pairs "
                f"asset: kept {out['kept']} of {out['complete_records']} complete records, "
                f"quarantine {out['quarantine_reasons']}, checks {out['accounting_check']}, "
                f"{out['seconds']:.1f} s, peak RSS {out['peak_rss_mb']:.0f} MB "
                f"(after imports {out['import_rss_mb']:.0f} MB)"
            )
    finally:
        if not args.workdir:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
