"""Scale: time and peak RSS of ingest -> form features -> scoring -> selection at growing sizes.

For each size a seeded synthetic landing zone (``benchmarks/synthetic.py``, 4 sources) is
written, then every stage runs in its own subprocess so stages cannot mask each other's memory;
peak RSS is the subprocess's ``VmHWM``, next to its RSS right after its imports.

* ingest: the library's streaming ``SourceReader`` per source (the parser, normalizer and
  duplicate check the ``raw_pairs`` asset uses), written to Parquet in row groups of 10,000 rows
  (what later stages stream through). Memory: one chunk plus each kept id with its file and
  line. The asset itself materializes one DataFrame per source partition (``ingest_source``),
  so its memory grows with the largest source, not with the number of sources.
* form features: ``compute_style_features`` (linguistic form only, no perplexity/relatedness)
  over Parquet record batches, written with a ``ParquetWriter``. Above ``--features-max-rows``
  only that many rows (spread over the sources) are computed and the time is extrapolated.
* text index: ids and texts into a SQLite table keyed by id (benchmark-only: the lookup the
  streaming selection needs; the asset keeps texts in Parquet only).
* scoring: the real StyleRanker encoder (all-MiniLM-L6-v2, seeded random head) on a sample of
  ``--score-sample`` pairs, in float32 and in bfloat16 (``score_sample_bf16``: the encoder copy
  converted once, as the scoring service does); the time for every row is extrapolated from its
  rate. Every row then
  gets a deterministic synthetic score (from its id), upserted into ``scored_pairs`` in batches.
* selection: ``streaming_select`` (top-k in SQL order, texts only for walked chunks) and, for
  comparison, ``tables.top_scores`` (SQL only, no filters).

    .venv/bin/python benchmarks/scale.py --sizes 10000,100000 [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine_line  # noqa: E402
from benchmarks.synthetic import SOURCES, write_landing_zone  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

RANKER_VERSION = "bench-synthetic"
BATCH_ROWS = 2000
SCORE_WRITE_ROWS = 20_000
ROW_GROUP_ROWS = 10_000  # Parquet row groups: readers decompress one group at a time
STAGES = (
    "generate",
    "ingest",
    "features",
    "text_index",
    "score_sample",
    "score_sample_bf16",
    "score_write",
    "select",
)
STAGE_IMPORTS = {
    "generate": ("numpy",),
    "ingest": ("pandas", "pyarrow.parquet", "scar_dagster.ingest.pipeline"),
    "features": ("pandas", "pyarrow.parquet", "scar_dagster.style.features"),
    "text_index": ("pyarrow.parquet", "scar_dagster.style.features"),
    "score_sample": ("torch", "transformers", "pyarrow.parquet", "scar_dagster.ranker.scoring"),
    "score_sample_bf16": (
        "torch",
        "transformers",
        "pyarrow.parquet",
        "scar_dagster.ranker.scoring",
    ),
    "score_write": ("pandas", "pyarrow.parquet", "scar_dagster.storage.tables"),
    "select": ("pandas", "scar_dagster.selection.streaming"),
}


# ---------------------------------------------------------------- helpers


def proc_status_mb(field: str) -> float:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def raw_files(work: Path) -> list[Path]:
    """The per-source raw_pairs Parquet files, sorted."""
    return sorted((work / "raw_pairs").glob("*.parquet"))


def iter_batches(path: Path, columns: Sequence[str], rows: int = BATCH_ROWS) -> Iterator[Any]:
    """Record batches of a Parquet file as pandas frames."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=list(columns)):
        yield batch.to_pandas()


def synthetic_scores(ids: Sequence[str]) -> list[float]:
    """Deterministic scores in [-1, 1) from the ids, 4 decimals (so there are ties)."""
    return [round(int(hashlib.sha256(i.encode()).hexdigest()[:8], 16) / 2**31 - 1, 4) for i in ids]


def select_k(kept_rows: int, fraction: float) -> int:
    """The top-k asked of selection: ``fraction`` of the kept rows (rounded down), at least 1."""
    from scar_dagster.selection.cutoff import rows_for_ratio

    return max(1, rows_for_ratio(kept_rows, fraction))


# ---------------------------------------------------------------- stages (run in subprocesses)


def stage_generate(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    counts = write_landing_zone(work / "landing", args.rows, seed=args.seed)
    (work / "manifest.json").write_text(json.dumps([asdict(c) for c in counts]))
    return {"rows": args.rows, "sources": len(counts)}


def stage_ingest(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from scar_dagster import schema
    from scar_dagster.ingest.pipeline import SourceReader, arrow_schema
    from scar_dagster.storage.stores import LocalStore

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


def _features_quota(args: argparse.Namespace, n_files: int) -> int | None:
    if args.features_max_rows is None or args.rows <= args.features_max_rows:
        return None
    return max(1, args.features_max_rows // n_files)


def stage_features(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from scar_dagster.storage.frame_writer import FrameParquetWriter
    from scar_dagster.style.features import StyleFeatureParams, compute_style_features

    params = StyleFeatureParams(compute_perplexity=False, compute_relatedness=False)
    files = raw_files(work)
    quota = _features_quota(args, len(files))
    (work / "features").mkdir(exist_ok=True)
    done = total = 0
    for path in files:
        total += pq.ParquetFile(path).metadata.num_rows
        left = quota
        with FrameParquetWriter(work / "features" / path.name) as writer:
            for frame in iter_batches(path, ("id", "source", "instruction", "response")):
                if left is not None:
                    frame = frame.iloc[:left]
                    left -= len(frame)
                writer.write(compute_style_features(frame, lm=None, encoder=None, params=params))
                done += len(frame)
                if left == 0:
                    break
    return {"rows": done, "total_rows": total, "sampled": quota is not None}


def stage_text_index(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from scar_dagster.style.features import degenerate_reason

    db = sqlite3.connect(work / "texts.db")
    db.execute(
        "CREATE TABLE pair_texts (id TEXT PRIMARY KEY, instruction TEXT, response TEXT, "
        "degenerate_reason TEXT)"
    )
    rows = 0
    for path in raw_files(work):
        for frame in iter_batches(path, ("id", "instruction", "response"), SCORE_WRITE_ROWS):
            texts = zip(frame["id"], frame["instruction"], frame["response"], strict=True)
            records = [(i, x, y, degenerate_reason(y, 100_000)) for i, x, y in texts]
            # A pair id already indexed from an earlier source (sorted, as curate orders them)
            # is a cross-source duplicate: the first copy is kept.
            db.executemany("INSERT OR IGNORE INTO pair_texts VALUES (?, ?, ?, ?)", records)
            db.commit()
            rows += len(records)
    indexed = db.execute("SELECT count(*) FROM pair_texts").fetchone()[0]
    db.close()
    return {"rows": rows, "cross_source_duplicates": rows - indexed}


def _sample_pairs(work: Path, n: int) -> tuple[list[str], list[str]]:
    """The first ``n / sources`` pairs of each source (the generator draws rows i.i.d.)."""
    files = raw_files(work)
    per_file = max(1, n // len(files))
    xs: list[str] = []
    ys: list[str] = []
    for path in files:
        frame = next(iter_batches(path, ("instruction", "response"), per_file))
        xs += frame["instruction"].tolist()
        ys += frame["response"].tolist()
    return xs, ys


def _ranker(tiny: bool) -> tuple[Any, Any]:
    import torch

    from scar_dagster.ranker.model import RankerConfig, build_ranker, build_tiny_ranker

    torch.manual_seed(0)
    return build_tiny_ranker(RankerConfig()) if tiny else build_ranker(RankerConfig())


def stage_score_sample(
    work: Path, args: argparse.Namespace, dtype: str = "float32"
) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from scar_dagster.ranker.scoring import for_inference, score_pairs

    model, tokenizer = _ranker(args.tiny_encoder)
    model = for_inference(model, "cpu", dtype)  # converted once, as the scoring service does
    xs, ys = _sample_pairs(work, args.score_sample)
    score_pairs(model, tokenizer, xs[:8], ys[:8])  # warm-up
    start = time.perf_counter()
    score_pairs(model, tokenizer, xs, ys)
    seconds = time.perf_counter() - start
    total = sum(pq.ParquetFile(p).metadata.num_rows for p in raw_files(work))
    return {
        "rows": len(xs),
        "seconds": seconds,
        "total_rows": total,
        "sampled": True,
        "dtype": dtype,
    }


def stage_score_sample_bf16(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    return stage_score_sample(work, args, dtype="bfloat16")


def stage_score_write(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from scar_dagster.storage import tables

    engine = tables.create_engine_for(f"sqlite:///{work / 'scores.db'}")
    tables.ensure_schema(engine)
    rows = 0
    for path in raw_files(work):
        for frame in iter_batches(path, ("id", "source"), SCORE_WRITE_ROWS):
            frame = frame.rename(columns={"id": "pair_id"})
            frame["ranker_version"] = RANKER_VERSION
            frame["score"] = synthetic_scores(frame["pair_id"].tolist())
            rows += tables.upsert_scores(engine, frame)
    engine.dispose()
    return {"rows": rows}


def sqlite_text_lookup(path: Path) -> Callable[[Sequence[str]], Mapping[str, Any]]:
    """A ``TextLookup`` over the benchmark's ``pair_texts`` table (500 ids per query)."""
    from scar_dagster.selection.streaming import PairText

    db = sqlite3.connect(path)

    def lookup(ids: Sequence[str]) -> Mapping[str, PairText]:
        found: dict[str, PairText] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            query = f"SELECT * FROM pair_texts WHERE id IN ({marks})"  # noqa: S608 - marks only
            for pid, x, y, reason in db.execute(query, chunk):
                found[pid] = PairText(x, y, reason)
        return found

    return lookup


def stage_select(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from scar_dagster.selection.select import SelectionParams
    from scar_dagster.selection.streaming import streaming_select
    from scar_dagster.storage import tables

    engine = tables.create_engine_for(f"sqlite:///{work / 'scores.db'}")
    kept = json.loads((work / "ingest.json").read_text())["kept"]
    k = select_k(kept, args.select_fraction)
    params = SelectionParams(top_k=k, near_dedup=False)
    start = time.perf_counter()
    result = streaming_select(engine, RANKER_VERSION, params, sqlite_text_lookup(work / "texts.db"))
    seconds = time.perf_counter() - start
    sql_start = time.perf_counter()
    top = tables.top_scores(engine, RANKER_VERSION, k)
    sql_seconds = time.perf_counter() - sql_start
    result.selected.to_parquet(work / "selected.parquet", index=False)
    engine.dispose()
    return {
        "rows": kept,
        "seconds": seconds,
        "k": k,
        "selected": len(result.selected),
        "walked": result.walked,
        "chunks": result.chunks,
        "reasons": dict(result.reasons),
        "sql_top_k_seconds": sql_seconds,
        "sql_top_k_rows": len(top),
    }


STAGE_FUNCTIONS: dict[str, Callable[[Path, argparse.Namespace], dict[str, Any]]] = {
    "generate": stage_generate,
    "ingest": stage_ingest,
    "features": stage_features,
    "text_index": stage_text_index,
    "score_sample": stage_score_sample,
    "score_sample_bf16": stage_score_sample_bf16,
    "score_write": stage_score_write,
    "select": stage_select,
}


def run_stage_here(name: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one stage in this process: imports, baseline RSS, timed work, peak RSS."""
    for module in STAGE_IMPORTS[name]:
        importlib.import_module(module)
    baseline = proc_status_mb("VmRSS")
    start = time.perf_counter()
    out = STAGE_FUNCTIONS[name](work, args)
    out.setdefault("seconds", time.perf_counter() - start)
    out.update(stage=name, import_rss_mb=baseline, peak_rss_mb=proc_status_mb("VmHWM"))
    return out


# ---------------------------------------------------------------- driver


def stage_argv(name: str, work: Path, args: argparse.Namespace) -> list[str]:
    """The command line that runs one stage in a fresh interpreter."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--stage", name, "--workdir", str(work)]
    argv += ["--rows", str(args.rows), "--seed", str(args.seed)]
    argv += ["--score-sample", str(args.score_sample)]
    argv += ["--select-fraction", str(args.select_fraction)]
    if args.features_max_rows is not None:
        argv += ["--features-max-rows", str(args.features_max_rows)]
    if args.tiny_encoder:
        argv.append("--tiny-encoder")
    return argv


def run_stage(name: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one stage in a subprocess; its last stdout line is the JSON result."""
    done = subprocess.run(stage_argv(name, work, args), capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"stage {name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    (work / f"{name}.json").write_text(json.dumps(out))
    return out


def run_size(rows: int, base: Path, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every stage at one size, in order, in a fresh ``base/rows_<n>`` folder."""
    work = base / f"rows_{rows}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sized = argparse.Namespace(**{**vars(args), "rows": rows})
    results = {}
    for name in STAGES:
        results[name] = run_stage(name, work, sized)
        print(f"  {rows:>9,} {name:<13} {results[name]['seconds']:8.1f}s", file=sys.stderr)
    return results


def check_accounting(work: Path, ingest: Mapping[str, Any]) -> list[str]:
    """Problems with input = kept + duplicates + quarantined, and against the generator."""
    manifest = json.loads((work / "manifest.json").read_text())
    problems = []
    if ingest["input"] != ingest["kept"] + ingest["duplicates"] + ingest["quarantined"]:
        problems.append(f"input != kept + duplicates + quarantined: {ingest}")
    for key, field in (("input", "records"), ("duplicates", "duplicates"), ("quarantined", "bad")):
        written = sum(source[field] for source in manifest)
        if ingest[key] != written:
            problems.append(f"{key}: ingest says {ingest[key]}, generator wrote {written}")
    return problems


def _row(stage: str, out: Mapping[str, Any], args: argparse.Namespace) -> str:
    rows, seconds = out["rows"], out["seconds"]
    rate = rows / seconds if seconds else float("inf")
    note = ""
    if out.get("sampled"):
        total = out["total_rows"]
        note = f"sample of {total:,} rows; {total / rate:,.0f}s for all rows (extrapolated)"
    if stage == "select":
        note = (
            f"streaming top-k={out['k']:,}: walked {out['walked']:,} rows in {out['chunks']} "
            f"chunks, rejected {out['reasons'] or 0}; SQL-only top_scores "
            f"{out['sql_top_k_seconds']:.2f}s"
        )
    if stage == "text_index" and out.get("cross_source_duplicates"):
        note = f"{out['cross_source_duplicates']:,} ids also in an earlier source: first kept"
    if stage.startswith("score_sample"):
        encoder = "tiny encoder" if args.tiny_encoder else "all-MiniLM-L6-v2"
        note = f"{encoder}, {out.get('dtype', 'float32')}; " + note
    return (
        f"| {stage} | {rows:,} | {seconds:.1f} | {rate:,.1f} | "
        f"{out['peak_rss_mb']:.0f} | {out['import_rss_mb']:.0f} | {note} |"
    )


def print_tables(results: Mapping[int, Mapping[str, Mapping[str, Any]]], args) -> None:
    """The per-stage table (sizes side by side per stage) and the ingest accounting table."""
    print("| stage | rows processed | seconds | rows/s | peak RSS MB | imports RSS MB | note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for stage in STAGES:
        for size in sorted(results):
            print(_row(stage, results[size][stage], args))
    print("\n| rows generated | input records | kept | duplicates | quarantined | accounting |")
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for size in sorted(results):
        ingest = results[size]["ingest"]
        problems = ingest.get("problems") or ["ok"]
        print(
            f"| {size:,} | {ingest['input']:,} | {ingest['kept']:,} | {ingest['duplicates']:,} "
            f"| {ingest['quarantined']:,} | {'; '.join(problems)} |"
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--score-sample", type=int, default=200, help="pairs scored for real")
    parser.add_argument("--tiny-encoder", action="store_true", help="tiny random encoder (tests)")
    parser.add_argument(
        "--features-max-rows",
        type=int,
        default=50_000,
        help="compute form features for at most this many rows per size, extrapolate the rest",
    )
    parser.add_argument("--select-fraction", type=float, default=0.01, help="top-k as a share")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[int, dict[str, dict[str, Any]]]:
    """Every size; returns the stage results per size (and leaves files only with --keep)."""
    base = args.workdir or Path(tempfile.mkdtemp(prefix="scar-scale-"))
    results: dict[int, dict[str, dict[str, Any]]] = {}
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            results[size] = run_size(size, base, args)
            ingest = results[size]["ingest"]
            ingest["problems"] = check_accounting(base / f"rows_{size}", ingest)
            if not args.keep:
                shutil.rmtree(base / f"rows_{size}", ignore_errors=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.stage:
        print(json.dumps(run_stage_here(args.stage, args.workdir, args)))
        return
    results = run(args)
    print(
        f"sizes {args.sizes} over {len(SOURCES)} sources, seed {args.seed}; every stage in its own "
        f"subprocess, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print(f"{machine_line().replace('load average', 'load average at the end')}\n")
    print_tables(results, args)


if __name__ == "__main__":
    main()
