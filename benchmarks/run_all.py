"""Run every benchmark and write ``benchmarks/results.md``: machine, date, every printed table.

Each benchmark runs as a subprocess with ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` set to
``--threads`` (default 1: on a small shared machine two OpenMP threads beside another busy
process spin-wait and run many times slower) and offline model loading. Its stdout goes into
the results file verbatim (the tables are markdown); its stderr (progress) goes to the console.
A failing benchmark is recorded as failed and the others still run; the exit code is then 1.

    .venv/bin/python -m benchmarks.run_all [--threads 1] [--only scale,incremental] [--quick]

``--update`` (with ``--only``) re-runs only the chosen benchmarks and replaces their sections in
the existing results file, keeping the others and noting the partial re-run in its header.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import ROOT, bench_env, machine_info, module_command


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script and its arguments (full run and ``--quick`` smoke run)."""

    name: str
    title: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]


def benchmarks(threads: int) -> list[Benchmark]:
    """Every benchmark, in the order they run."""
    t = ("--threads", str(threads))
    return [
        Benchmark(
            "scoring",
            "Scoring throughput: ours vs the SCAR reference scorer",
            ("--pairs", "2000", *t),
            ("--pairs", "64", *t),
        ),
        Benchmark(
            "style_features",
            "Style features: form features and perplexity vs naive baselines",
            t,
            ("--texts", "200", "--pairs", "4", *t),
        ),
        Benchmark(
            "training",
            "Training: StyleRanker and local SFT, fp32 vs bf16 autocast",
            ("--epochs", "3", "--sft-steps", "8", *t),
            ("--epochs", "1", "--quadruples", "12", "--sft-steps", "2", *t),
        ),
        Benchmark(
            "scale",
            "Scale: ingest, form features and scoring at growing sizes",
            ("--sizes", "10000,100000,1000000"),
            ("--sizes", "2000", "--score-sample", "16", "--features-max-rows", "500"),
        ),
        Benchmark(
            "pipeline_scale",
            "Scale through the assets: 100k and 1M rows, 1 and 4 shards, peak RSS per stage",
            ("--sizes", "100000,1000000", "--shards", "1,4"),
            ("--sizes", "400", "--shards", "1,2"),
        ),
        Benchmark(
            "ingest_streaming",
            "Streaming ingest: a JSON array dump, whole-file parse vs streaming",
            ("--mb", "150"),
            ("--mb", "2"),
        ),
        Benchmark(
            "selection_scale",
            "Selection at scale in the selected_subset asset, and a damaged dump",
            ("--sizes", "100000"),
            ("--sizes", "2000", "--dump-mb", "2"),
        ),
        Benchmark(
            "shards",
            "Shards: 1 shard in 1 process vs 2 shards in 2 processes, same data",
            ("--rows", "60"),
            ("--rows", "8"),
        ),
        Benchmark(
            "shard_reads",
            "Shard reads: one shard's read bytes and peak memory of raw_pairs, N = 1 and 4",
            ("--rows", "1000000"),
            ("--rows", "5000"),
        ),
        Benchmark(
            "distributed",
            "Distributed: 2 sources x 4 shards on 1 Celery worker vs 2",
            (),
            (),
        ),
        Benchmark(
            "selectors",
            "Selectors: subsets side by side on real text, and cost per 1,000 pairs",
            ("--pool-rows", "500", "--cost-rows", "200"),
            (
                "--pool",
                "data/sample",
                "--pool-rows",
                "40",
                "--cost-rows",
                "8",
                "--distill-sample",
                "16",
            ),
        ),
        Benchmark(
            "incremental",
            "Incremental: a fifth source with 1% of the rows after a full run",
            ("--rows", "1000"),
            ("--rows", "200", "--tiny-encoder"),
        ),
        Benchmark(
            "real_scale",
            "Real pairs, real models: perplexity all vs read through the assets, 1M projected",
            ("--install", "--pairs", "2000", "--sample-rows", "200"),
            ("--install", "--pairs", "24", "--sample-rows", "6", "--phase-pairs", "6"),
        ),
    ]


def run_one(bench: Benchmark, args: tuple[str, ...], threads: int) -> tuple[str, float, int]:
    """Run one benchmark module; return (stdout, wall seconds, exit code)."""
    command = module_command(f"benchmarks.{bench.name}", *args)
    print(f"== {bench.name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env=bench_env(threads), stdout=subprocess.PIPE, text=True
    )
    return done.stdout, time.perf_counter() - start, done.returncode


def section(bench: Benchmark, args: tuple[str, ...], out: str, seconds: float, code: int) -> str:
    """The markdown section of one benchmark."""
    status = "" if code == 0 else f" — **FAILED (exit code {code})**"
    command = " ".join(["python -m benchmarks." + bench.name, *args])
    return f"## {bench.title}\n\n`{command}` ({seconds:,.0f} s wall){status}\n\n{out.strip()}\n"


WRITER = "`python -m benchmarks.run_all`"


def split_results(text: str, titles: set[str]) -> tuple[list[str], dict[str, str]]:
    """``(header lines, {title: section text})`` of a results file; a ``## `` line starts a
    section only when it is one of ``titles`` (a benchmark's own sub-headings stay inside)."""
    header: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] = header
    for line in text.rstrip("\n").splitlines():
        if line.startswith("## ") and line[3:].strip() in titles:
            current = sections.setdefault(line[3:].strip(), [])
        current.append(line)
    while header and not header[-1].strip():
        header.pop()
    # trailing blank lines dropped: the writer puts one between sections, so updates keep it one
    return header, {title: "\n".join(lines).rstrip() + "\n" for title, lines in sections.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", default=None, help="comma-separated benchmark names")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.md")
    parser.add_argument("--update", action="store_true", help="replace only --only's sections")
    args = parser.parse_args()
    every = benchmarks(args.threads)
    chosen = [b for b in every if not args.only or b.name in args.only.split(",")]
    if args.update and not (args.only and args.out.exists()):
        parser.error("--update needs --only and an existing --out file")
    kept_header, kept = (
        split_results(args.out.read_text(), {b.title for b in every}) if args.update else ([], {})
    )
    start = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average (1 min) {os.getloadavg()[0]:.2f}"
    sections, failed = dict(kept), False
    for bench in chosen:
        bench_args = bench.quick_args if args.quick else bench.args
        out, seconds, code = run_one(bench, bench_args, args.threads)
        failed |= code != 0
        sections[bench.title] = section(bench, bench_args, out, seconds, code)
    end = f"load average (1 min) at the end {os.getloadavg()[0]:.2f}"
    if args.update:
        names = ", ".join(b.name for b in chosen)
        header = [*kept_header, f"- re-run alone (`--only {names} --update`): {start}; {end}"]
    else:
        header = ["# Benchmark results", "", f"Written by `make bench` ({WRITER}).", ""]
        header += [*machine_info(args.threads), f"- {end}"]
    ordered = [sections[b.title] for b in every if b.title in sections]
    ordered += [text for title, text in sections.items() if title not in {b.title for b in every}]
    text = "\n".join(header) + "\n\n" + "\n".join(ordered)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
