"""Scale through the assets: ingest -> features -> scores -> selection, every stage a real
``materialize()`` of this repo's assets, at growing sizes with 1 and N shards per source.

For each size a seeded synthetic landing zone is written (``benchmarks/synthetic.py``: 4 sources
of JSONL/JSON/Parquet files with bad lines, duplicates and non-English rows) plus a fifth source,
``damaged_dump``: a ShareGPT JSON array of ``size / 20`` records, gzipped, cut in the middle of a
record (a download that stopped). Then, for each shard count, a fresh storage root and SQLite
database run the stages in order; each stage is ``--workers`` processes started at once, each
materializing its share of the stage's partitions (round robin) one after another with
``materialize()`` on ``build_definitions(shards)`` (checks included) and an ephemeral instance:

* ``ingest``: ``raw_pairs`` + ``raw_quarantine`` per source (the streaming readers);
* ``features``: ``style_features`` per source (x shard), linguistic-form features only
  (``perplexity`` and ``relatedness`` off);
* ``scoring``: ``scored_pairs`` per source (x shard) with a published champion ranker (a seeded
  random tiny ranker: 1-layer BERT encoder with hidden size 32, 64 tokens per text, the MiniLM
  tokenizer; the scoring config's default ``dtype: auto``, i.e. bfloat16 on an AMX/AVX512-BF16
  CPU);
* ``selection``: ``selected_subset`` (one process), ``ratio`` 0.1, ``mode=streaming``, exact
  dedup on, MinHash near-dedup off (its cost, about 1,500 texts/s for the signatures, is measured
  by ``selection_scale.py``), and its two gate checks.

This benchmark measures the pipeline's memory and overhead, not model speed: ``scoring.py``,
``style_features.py`` and ``training.py`` measure the real models, and at their rates SmolLM2
perplexity (about 200 tokens/s on one core) and MiniLM scoring (about 15 pairs/s) would need
days for 1M rows on 2 cores; even a tiny random LM spends its time in the 30,522-word vocabulary
projection (4 rows/s measured). Perplexity runs in batches of a fixed size, so its memory does
not grow with the source. Peak RSS is each worker's ``VmHWM``; the table shows the largest
worker of a stage, next to the RSS after imports.

    .venv/bin/python -m benchmarks.pipeline_scale --sizes 100000,1000000 --shards 1,4 [--workers 2]

With ``--workdir``, each finished case is saved there (``result-<rows>-<shards>.json``) and a
later run on the same folder reuses it, so a long run can be resumed or reported in parts
(``--saved-only``: the saved cases only).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Stage, machine_line, publish_champion, rss_mb
from benchmarks.synthetic import SOURCES, write_damaged_dump, write_landing_zone

DAMAGED = "damaged_dump"
RANKER_TOKENS = 64  # tokens per text of the tiny ranker: attention over 512 would dominate
STAGES = ("ingest", "features", "scoring", "selection")
SELECTION = {  # near-dedup: selection_scale; no LM anywhere (memory and overhead)
    "ratio": 0.1,
    "mode": "streaming",
    "near_dedup": False,
    "perplexity": "off",
}
FEATURES = {"perplexity": "off", "relatedness": "off"}
RUN_CONFIG = {
    "ingest": ("ingest_source", {}),
    "features": ("style_features", FEATURES),
    "scoring": ("scored_pairs", {}),
    "selection": ("selected_subset", SELECTION),
}


# ---------------------------------------------------------------- one worker process


def _resources(case: dict[str, Any]) -> dict[str, Any]:
    from definitions import build_resources

    return build_resources(case["home"], case["landing"], case["database"])


def _partition_key(key: str, shards: int) -> Any:
    from dagster import MultiPartitionKey

    if shards == 1 or "|" not in key:
        return key
    source, shard = key.split("|")
    return MultiPartitionKey({"data_source": source, "shard": shard})


def _stage_assets(stage: str) -> Any:
    from dagster import AssetSelection

    if stage == "selection":
        return AssetSelection.assets(RUN_CONFIG[stage][0])
    return AssetSelection.groups(stage)  # the asset groups are named after the stages


def _stage_metadata(result: Any, stage: str) -> dict[str, Any]:
    node = RUN_CONFIG[stage][0]
    out: dict[str, Any] = {}
    for event in result.asset_materializations_for_node(node):
        meta = {k: v.value for k, v in event.metadata.items()}
        asset = event.asset_key.to_user_string()
        for name in ("dagster/row_count", "rows_scored", "subset_version", "selection_path"):
            if name in meta:
                out.setdefault(asset, {})[name] = meta[name]
    out["checks_failed"] = [
        c.check_name for c in result.get_asset_check_evaluations() if not c.passed
    ]
    return out


def worker(case: dict[str, Any], stage: str, keys: list[str]) -> dict[str, Any]:
    """Materialize ``stage`` for ``keys`` one after another; return times, RSS after the
    definitions are built, and metadata (a stage run by ``benchmarks.harness``)."""
    from dagster import DagsterInstance, materialize

    from definitions import build_definitions

    shards = case["shards"]
    resources = _resources(case)
    defs = build_definitions(shards, resources=resources)
    assets = list(defs.assets) + list(defs.asset_checks)
    import_rss = rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    details = []
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", case["sources"])
        for key in keys or [None]:
            run_config = {"ops": {RUN_CONFIG[stage][0]: {"config": RUN_CONFIG[stage][1]}}}
            result = materialize(
                assets=assets,
                selection=_stage_assets(stage),
                partition_key=_partition_key(key, shards) if key else None,
                instance=instance,
                resources=resources,
                run_config=run_config,
                raise_on_error=False,
            )
            materialized = [e for e in result.get_asset_materialization_events() if e.asset_key]
            if not result.success and not materialized:
                raise SystemExit(f"{stage} {key}: materialize failed")
            # a blocking check that fails (the random ranker's subset is not style-consistent)
            # fails the run after the asset is written: reported in the table, not fatal
            details.append({"key": key, **_stage_metadata(result, stage)})
    return {
        "seconds": time.perf_counter() - start,
        "cpu_s": time.process_time() - cpu_start,
        "import_rss_mb": import_rss,
        "partitions": details,
    }


# ---------------------------------------------------------------- driver


def stage_keys(stage: str, sources: list[str], shards: int) -> list[str]:
    """The partition keys a stage materializes (none for the unpartitioned selection)."""
    if stage == "selection":
        return []
    if stage == "ingest" or shards == 1:
        return list(sources)
    return [f"{s}|{k}" for s in sources for k in range(shards)]


def run_stage(folder: Path, case: dict, stage: str, workers: int) -> dict[str, Any]:
    """Start the stage's workers at once (one torch thread each); wait; combine their reports."""
    keys = stage_keys(stage, case["sources"], case["shards"])
    shares = [keys[i::workers] for i in range(workers)] if keys else [[]]
    shares = [share for share in shares if share] or [[]]
    start = time.perf_counter()
    running = [
        Stage(
            worker,
            {"case": case, "stage": stage, "keys": share},
            threads=1,
            log=folder / f"{stage}-{i}.log",
        )
        for i, share in enumerate(shares)
    ]
    reports = [process.result() for process in running]
    return {
        "stage": stage,
        "wall_s": time.perf_counter() - start,
        "workers": len(running),
        "partitions": len(keys) or 1,
        "cpu_s": sum(r["cpu_s"] for r in reports),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in reports),
        "import_rss_mb": max(r["import_rss_mb"] for r in reports),
        "details": [d for r in reports for d in r["partitions"]],
    }


def prepare_size(work: Path, rows: int, seed: int) -> dict[str, Any]:
    """The landing zone of one size: 4 synthetic sources and the damaged dump."""
    landing = work / f"landing-{rows}"
    counts = write_landing_zone(landing, rows, seed=seed)
    damaged = write_damaged_dump(landing / DAMAGED, max(20, rows // 20), seed)
    return {
        "landing": str(landing),
        "sources": sorted([c.source for c in counts] + [DAMAGED]),
        "records": sum(c.records for c in counts) + damaged["records_written"],
        "damaged": damaged,
    }


def run_case(work: Path, size: dict, rows: int, shards: int, workers: int) -> dict[str, Any]:
    """Every stage for one (size, shard count) on a fresh storage root and database."""
    folder = work / f"case-{rows}-{shards}"
    home = folder / "home"
    home.mkdir(parents=True)
    case = {
        **size,
        "home": str(home),
        "database": f"sqlite:///{folder / 'scar.db'}",
        "cache": str(work / "cache"),
        "shards": shards,
    }
    stages = []
    for stage in STAGES:
        if stage == "scoring":
            publish_champion(home, folder, tiny=True, max_length=RANKER_TOKENS)
        print(f"[pipeline_scale] rows={rows} shards={shards} {stage} ...", file=sys.stderr)
        stages.append(run_stage(folder, case, stage, workers))
        print(
            f"[pipeline_scale]   {stages[-1]['wall_s']:.0f}s, "
            f"peak {stages[-1]['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
            flush=True,
        )
    return {"rows": rows, "shards": shards, "stages": stages}


def _kept(case: dict) -> tuple[int, int]:
    """(kept rows over all sources, kept rows of the damaged dump) from the ingest metadata."""
    ingest = next(s for s in case["stages"] if s["stage"] == "ingest")
    total, damaged = 0, 0
    for detail in ingest["details"]:
        kept = detail.get("raw_pairs", {}).get("dagster/row_count", 0)
        total += kept
        damaged += kept if detail["key"] == DAMAGED else 0
    return total, damaged


def quarantine_reasons(home: Path, source: str) -> dict[str, int]:
    """Quarantine reasons of one source, from its ``raw_quarantine`` partition."""
    import pandas as pd

    frame = pd.read_parquet(home / "assets" / "raw_quarantine" / f"{source}.parquet")
    return {str(k): int(v) for k, v in frame["reason"].value_counts().sort_index().items()}


def report(cases: list[dict], sizes: dict[int, dict], work: Path) -> list[str]:
    """The markdown tables."""
    lines = [
        "| rows in | shards | stage | partitions | workers | wall s | rows/s | CPU s "
        "| peak RSS MB | imports RSS MB | failed checks |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for case in cases:
        kept, _ = _kept(case)
        for stage in case["stages"]:
            n = sizes[case["rows"]]["records"] if stage["stage"] == "ingest" else kept
            failed = sorted({c for d in stage["details"] for c in d.get("checks_failed", [])})
            lines.append(
                f"| {case['rows']:,} | {case['shards']} | {stage['stage']} "
                f"| {stage['partitions']} | {stage['workers']} | {stage['wall_s']:,.0f} "
                f"| {n / stage['wall_s']:,.0f} | {stage['cpu_s']:,.0f} "
                f"| {stage['peak_rss_mb']:,.0f} | {stage['import_rss_mb']:,.0f} "
                f"| {', '.join(failed) or 'none'} |"
            )
    lines += ["", "Peak RSS, largest size over smallest (goal: at most 1.3x per stage):", ""]
    small, large = min(sizes), max(sizes)
    lines += ["| stage | shards | " + f"{small:,} rows MB | {large:,} rows MB | ratio |"]
    lines += ["| --- | ---: | ---: | ---: | ---: |"]
    by = {
        (c["rows"], c["shards"], s["stage"]): s["peak_rss_mb"] for c in cases for s in c["stages"]
    }
    for shards in sorted({c["shards"] for c in cases}):
        for stage in STAGES:
            a, b = by.get((small, shards, stage)), by.get((large, shards, stage))
            if a and b and small != large:
                lines.append(f"| {stage} | {shards} | {a:,.0f} | {b:,.0f} | {b / a:.2f}x |")
    lines += ["", "Accounting, the damaged dump and the subset:", ""]
    lines += [
        "| rows in | shards | input records | kept | damaged dump: complete records | kept "
        "| its quarantine | subset version | subset rows |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for case in cases:
        kept, damaged_kept = _kept(case)
        size = sizes[case["rows"]]
        home = work / f"case-{case['rows']}-{case['shards']}" / "home"
        selection = case["stages"][-1]["details"][0].get("selected_subset", {})
        lines.append(
            f"| {case['rows']:,} | {case['shards']} | {size['records']:,} | {kept:,} "
            f"| {size['damaged']['complete_records']:,} | {damaged_kept:,} "
            f"| {quarantine_reasons(home, DAMAGED)} | {selection.get('subset_version')} "
            f"| {selection.get('dagster/row_count', 0):,} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--shards", default="1,4")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--saved-only", action="store_true", help="report the cases saved in --workdir; run none"
    )
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="scar-pipeline-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    sizes, cases = {}, []
    try:
        for rows in (int(s) for s in args.sizes.split(",")):
            for shards in (int(s) for s in args.shards.split(",")):
                saved = work / f"result-{rows}-{shards}.json"
                if saved.exists():  # a case finished by an earlier run on this workdir
                    sizes[rows], case = json.loads(saved.read_text())
                    cases.append(case)
                    continue
                if args.saved_only:
                    continue
                if rows not in sizes:
                    sizes[rows] = prepare_size(work, rows, args.seed)
                cases.append(run_case(work, sizes[rows], rows, shards, args.workers))
                saved.write_text(json.dumps([sizes[rows], cases[-1]]))
        print(machine_line())
        ran = ", ".join(f"{c['rows']:,} rows x {c['shards']} shards" for c in cases)
        wall = sum(s["wall_s"] for c in cases for s in c["stages"])
        print(
            f"\ncases {ran} over {len(SOURCES)} synthetic sources + {DAMAGED} (gzipped "
            f"JSON array cut mid-record), seed {args.seed}; {args.workers} worker processes per "
            "stage, one torch thread each; tiny random models (see the module docstring); "
            f"selection {SELECTION}; the stages took {wall:,.0f} s in all\n"
        )
        print("\n".join(report(cases, sizes, work)))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
