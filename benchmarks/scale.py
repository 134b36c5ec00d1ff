"""Scale: time and peak RSS of ingest -> form features -> scoring at growing sizes.

For each size a seeded synthetic landing zone (``benchmarks/synthetic.py``, 4 sources) is
written, then every stage runs in its own interpreter (``benchmarks.harness.run_stage``) so
stages cannot mask each other's memory; peak RSS is that process's ``VmHWM``, next to its RSS
right after its imports.

* ingest: the library's streaming ``SourceReader`` per source (the parser, normalizer and
  duplicate check the ``raw_pairs`` asset uses), written to Parquet in row groups of 10,000 rows
  (what later stages stream through; ``benchmarks.harness.landing``). Memory: one chunk plus
  each kept id with its file and line. The asset itself materializes one DataFrame per source
  partition (``ingest_source``), so its memory grows with the largest source, not with the
  number of sources.
* form features: ``compute_style_features`` (linguistic form only, no perplexity/relatedness)
  over Parquet record batches, written with a ``ParquetWriter``. Above ``--features-max-rows``
  only that many rows (spread over the sources) are computed and the time is extrapolated.
* scoring: the real StyleRanker encoder (all-MiniLM-L6-v2, seeded random head) on a sample of
  ``--score-sample`` pairs, in float32 and in bfloat16 (``score_sample_bf16``: the encoder copy
  converted once, as the scoring service does); the time for every row is extrapolated from its
  rate. Every row then gets a deterministic synthetic score (from its id), upserted into
  ``scored_pairs`` in batches.

Selection is measured where the asset runs it: ``selection_scale.py`` (the ``selected_subset``
body on both paths, near-dedup on) and ``pipeline_scale.py`` (every asset at 100k and 1M rows).

    .venv/bin/python -m benchmarks.scale --sizes 10000,100000 [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.harness import generate_landing, ingest_landing, machine_line, raw_files, run_stage
from benchmarks.synthetic import SOURCES, synthetic_scores

RANKER_VERSION = "bench-synthetic"
BATCH_ROWS = 2000
SCORE_WRITE_ROWS = 20_000


def iter_batches(path: Path, columns: Sequence[str], rows: int = BATCH_ROWS) -> Iterator[Any]:
    """Record batches of a Parquet file as pandas frames."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=list(columns)):
        yield batch.to_pandas()


# ---------------------------------------------------------------- stages (run in subprocesses)


def stage_features(work: str, rows: int, features_max_rows: int | None) -> dict[str, Any]:
    """Form features of every row, or of ``features_max_rows`` spread over the sources."""
    import pyarrow.parquet as pq

    from scar_dagster.storage.frame_writer import FrameParquetWriter
    from scar_dagster.style.features import StyleFeatureParams, compute_style_features

    params = StyleFeatureParams(compute_perplexity=False, compute_relatedness=False)
    files = raw_files(work)
    sampled = features_max_rows is not None and rows > features_max_rows
    quota = max(1, features_max_rows // len(files)) if sampled else None
    (Path(work) / "features").mkdir(exist_ok=True)
    done = total = 0
    for path in files:
        total += pq.ParquetFile(path).metadata.num_rows
        left = quota
        with FrameParquetWriter(Path(work) / "features" / path.name) as writer:
            for frame in iter_batches(path, ("id", "source", "instruction", "response")):
                if left is not None:
                    frame = frame.iloc[:left]
                    left -= len(frame)
                writer.write(compute_style_features(frame, lm=None, encoder=None, params=params))
                done += len(frame)
                if left == 0:
                    break
    return {"rows": done, "total_rows": total, "sampled": sampled}


def _sample_pairs(work: str, n: int) -> tuple[list[str], list[str]]:
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


def stage_score_sample(
    work: str, score_sample: int, tiny_encoder: bool, dtype: str = "float32"
) -> dict[str, Any]:
    """Score a sample with the encoder in ``dtype``; the rate extrapolates to every row."""
    import pyarrow.parquet as pq
    import torch

    from scar_dagster.ranker.inference.scoring import for_inference, score_pairs
    from scar_dagster.ranker.model.architecture import RankerConfig, build_ranker, build_tiny_ranker

    torch.manual_seed(0)
    model, tokenizer = (build_tiny_ranker if tiny_encoder else build_ranker)(RankerConfig())
    model = for_inference(model, "cpu", dtype)  # converted once, as the scoring service does
    xs, ys = _sample_pairs(work, score_sample)
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


def stage_score_sample_bf16(work: str, score_sample: int, tiny_encoder: bool) -> dict[str, Any]:
    """``stage_score_sample`` in bfloat16."""
    return stage_score_sample(work, score_sample, tiny_encoder, dtype="bfloat16")


def stage_score_write(work: str) -> dict[str, Any]:
    """A synthetic score for every row, upserted into ``scored_pairs`` in batches."""
    from scar_dagster.storage import tables

    engine = tables.create_engine_for(f"sqlite:///{Path(work) / 'scores.db'}")
    tables.ensure_schema(engine)
    rows = 0
    for path in raw_files(work):
        for frame in iter_batches(path, ("id", "source"), SCORE_WRITE_ROWS):
            frame = frame.assign(
                ranker_version=RANKER_VERSION, score=synthetic_scores(frame["id"].tolist())
            )
            rows += tables.upsert_scores(engine, frame)
    engine.dispose()
    return {"rows": rows}


class StageSpec(NamedTuple):
    """A stage: its function, the options it takes, what it imports before its baseline RSS."""

    run: Callable[..., dict[str, Any]]
    options: tuple[str, ...]
    imports: tuple[str, ...]


SCORING_IMPORTS = (
    "torch",
    "transformers",
    "pyarrow.parquet",
    "scar_dagster.ranker.inference.scoring",
)
STAGES: dict[str, StageSpec] = {
    "generate": StageSpec(generate_landing, ("rows", "seed"), ("numpy",)),
    "ingest": StageSpec(
        ingest_landing, (), ("pandas", "pyarrow.parquet", "scar_dagster.ingest.pipeline")
    ),
    "features": StageSpec(
        stage_features,
        ("rows", "features_max_rows"),
        ("pandas", "pyarrow.parquet", "scar_dagster.style.features"),
    ),
    "score_sample": StageSpec(
        stage_score_sample, ("score_sample", "tiny_encoder"), SCORING_IMPORTS
    ),
    "score_sample_bf16": StageSpec(
        stage_score_sample_bf16, ("score_sample", "tiny_encoder"), SCORING_IMPORTS
    ),
    "score_write": StageSpec(
        stage_score_write, (), ("pandas", "pyarrow.parquet", "scar_dagster.storage.tables")
    ),
}


# ---------------------------------------------------------------- driver


def run_size(rows: int, base: Path, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every stage at one size, in order, in a fresh ``base/rows_<n>`` folder."""
    work = base / f"rows_{rows}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    options = {**vars(args), "rows": rows}
    results = {}
    for name, spec in STAGES.items():
        stage_args = {"work": work, **{option: options[option] for option in spec.options}}
        results[name] = {"stage": name, **run_stage(spec.run, stage_args, imports=spec.imports)}
        print(f"  {rows:>9,} {name:<17} {results[name]['seconds']:8.1f}s", file=sys.stderr)
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
    results = run(args)
    print(
        f"sizes {args.sizes} over {len(SOURCES)} sources, seed {args.seed}; every stage in its own "
        f"subprocess, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print(f"{machine_line('at the end')}\n")
    print_tables(results, args)


if __name__ == "__main__":
    main()
