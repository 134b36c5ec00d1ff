"""``scar-dagster compare POOL --selectors scar,ifd,length,random --ratio R``: every selector's
subset of one pool through the same selection path, side by side (``comparison``).

POOL is a data file, a source folder or a landing zone (e.g. ``data/sample``). The style
features are computed once; every perplexity (the features', the reports', the LM selectors')
goes through one scratch ``surprisal_scores`` table, so each pair's is computed once per LM
version; ``scar`` scores the pool with ``--model``. With ``--pairs-path`` each selector also
scores both sides of those held-out pairs. The table goes to stdout; ``--output DIR`` also
keeps ``comparison.md``, ``comparison.json`` and ``comparison.png`` there.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from scar_dagster.cli_options import precision_options

DEFAULT_SELECTORS = "scar,ifd,superfiltering,perplexity,length,random,diversity,scar+diversity"


def add_compare_command(commands: Any) -> None:
    """The ``compare`` sub-command of ``scar-dagster``."""
    compare = commands.add_parser(
        "compare",
        help="every selector's subset of one pool side by side (spread, overlap, cost)",
        description="Select from POOL with each selector through the same selection path "
        "(dedup, language filter, cut, report) and print one row per selector.",
    )
    compare.add_argument("pool", help="a data file, a source folder or a landing zone")
    compare.add_argument(
        "--selectors",
        default=DEFAULT_SELECTORS,
        help=f"comma-separated (default {DEFAULT_SELECTORS})",
    )
    how = compare.add_mutually_exclusive_group(required=True)
    how.add_argument("--ratio", type=float, help="keep this share of eligible pairs")
    how.add_argument("--top-k", type=int, help="keep this many pairs")
    selector_model_options(compare)
    compare.add_argument(
        "--pairs-path",
        default=None,
        help="held-out pairs (instruction, preferred|chosen, other|rejected)",
    )
    compare.add_argument("--output", default=None, help="folder to keep the table and plot in")
    compare.add_argument(
        "--no-perplexity",
        action="store_true",
        help="skip the LM's perplexity feature (its spread is then not compared)",
    )
    compare.add_argument("--seed", type=int, default=0, help="seed of random and distilled")
    compare.set_defaults(run=run_compare)


def selector_model_options(parser: argparse.ArgumentParser, *, ranker: bool = True) -> None:
    """The models selectors run: ``--model`` (scar), ``--lm``, ``--proxy-lm``, ``--encoder``."""
    precision_options(parser)
    if ranker:
        parser.add_argument(
            "--model", default=None, help="StyleRanker folder (ours or SCAR-published): for scar"
        )
    parser.add_argument("--lm", default=None, help="instruct LM folder (default: bundled SmolLM2)")
    parser.add_argument(
        "--proxy-lm", default=None, help="superfiltering's small LM folder (default: --lm)"
    )
    parser.add_argument(
        "--encoder", default=None, help="sentence encoder folder (default: bundled MiniLM)"
    )


def cli_models(args: argparse.Namespace, ranker_version: str | None = None) -> Any:
    """``SelectorModels`` of the command line's model options."""
    import os

    from scar_dagster.base_models import encoder_path, instruct_lm_path
    from scar_dagster.selectors.models import models_from_paths

    cache = os.environ.get("SCAR_MODEL_CACHE") or str(Path.cwd() / ".scar_home" / "models")
    return models_from_paths(
        lm=instruct_lm_path(args.lm, cache),
        encoder=encoder_path(args.encoder),
        ranker=getattr(args, "model", None),
        ranker_version=ranker_version,
        proxy_lm=args.proxy_lm,
        device=args.device,
        dtype=args.dtype,
    )


def run_compare(args: argparse.Namespace) -> int:
    from scar_dagster.evaluation.accuracy import read_pairs
    from scar_dagster.selection import SelectionParams
    from scar_dagster.selectors.comparison import compare_selectors
    from scar_dagster.selectors.pool_files import read_pool
    from scar_dagster.selectors.registry import (
        SelectorSettings,
        build_selector,
        check_selector_name,
    )
    from scar_dagster.storage import tables
    from scar_dagster.storage.stores import LocalStore

    names = [check_selector_name(n.strip(), allow_auto=False) for n in args.selectors.split(",")]
    needs_ranker = any(n in ("scar", "scar+diversity") for n in names)
    if needs_ranker and not args.model:
        raise ValueError("scar and scar+diversity need --model (a StyleRanker folder)")
    params = SelectionParams(ratio=args.ratio, top_k=args.top_k)
    heldout = read_pairs(args.pairs_path) if args.pairs_path else None
    pairs, quarantine = read_pool(args.pool)
    models = cli_models(args)
    lm = None if args.no_perplexity else models.lm
    with tempfile.TemporaryDirectory(prefix="scar-compare-") as work:
        engine = tables.create_engine_for(f"sqlite:///{work}/compare.db")
        tables.ensure_schema(engine)  # its surprisal_scores: every LM selector's perplexities
        features = pool_features(pairs, lm, engine)
        version, seconds = None, 0.0
        if needs_ranker:
            version, seconds = score_with_ranker(pairs, models, engine)
            models = cli_models(args, version)
        settings = SelectorSettings(seed=args.seed)
        selectors = [build_selector(name, models, settings, store=engine) for name in names]
        comparison = compare_selectors(
            selectors,
            pairs=pairs,
            quarantine=quarantine,
            features=features,
            params=params,
            engine=engine,
            store=LocalStore(Path(work) / "store"),
            prefix="subsets",
            folder=Path(work) / "subsets",
            ranker_version=version,
            heldout=heldout,
            scar_seconds=seconds,
            perplexity=comparison_reads(lm, engine),
        )
        engine.dispose()
    text = comparison.to_markdown()
    print(f"{len(pairs)} pairs of {args.pool}; {params.to_dict()['ratio'] or args.top_k} kept")
    print(text)
    if args.output:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        (out / "comparison.md").write_text(text + "\n", encoding="utf-8")
        (out / "comparison.png").write_bytes(comparison.plot_png())
        table = json.loads(comparison.table.to_json(orient="records"))
        (out / "comparison.json").write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    return 0


def pool_features(pairs: Any, lm: Any, store: Any, log: Any = None) -> Any:
    """The pool's style features as ``style_features`` computes them: form, and the
    perplexity of the drift sample under ``lm`` (a ``PerplexityLM``; None: none) kept in
    ``store``; no relatedness."""
    from scar_dagster.style.features import StyleFeatureParams, compute_style_features

    return compute_style_features(
        pairs,
        lm=lm,
        store=store,
        log=log,
        encoder=None,
        params=StyleFeatureParams(relatedness="off"),
    )


def comparison_reads(lm: Any, store: Any) -> Any:
    """The perplexities each subset's report reads: ``selected_subset``'s default (seeded
    samples) through ``store``, or none without an ``lm``."""
    from scar_dagster.selection.perplexity import PerplexityReads

    return PerplexityReads(mode="off") if lm is None else PerplexityReads(lm=lm, store=store)


def score_with_ranker(pairs: Any, models: Any, engine: Any) -> tuple[str, float]:
    """Score every pair with the ranker of ``models`` into ``scored_pairs``: its version and
    the seconds it took."""
    import pandas as pd

    from scar_dagster.ranker.inference.scoring import score_pairs
    from scar_dagster.selectors.models import ranker_of
    from scar_dagster.storage import tables

    model, tokenizer, info = ranker_of(models.ranker.label)
    version = str(info["version"])
    frame = pairs.drop_duplicates("id")
    started = time.perf_counter()
    scores = score_pairs(
        model, tokenizer, frame["instruction"].tolist(), frame["response"].tolist()
    )
    seconds = time.perf_counter() - started
    table = pd.DataFrame(
        {"id": frame["id"], "source": frame["source"], "score": scores.astype("float64")}
    )
    tables.upsert_scores(engine, table.assign(ranker_version=version))
    return version, seconds


def selector_rank_scores(args: argparse.Namespace, pairs: list[Any]) -> tuple[list[float], dict]:
    """``scar-dagster rank --selector NAME``: each pair's score by that selector (an order-based
    one picks the cut's rows first) and what to print about it."""
    from scar_dagster.selection.cutoff import rows_for_ratio
    from scar_dagster.selectors.base import texts_pool
    from scar_dagster.selectors.registry import SelectorSettings, build_selector

    if args.selector in ("scar+diversity",) and not args.model:
        raise ValueError("scar+diversity needs --model (a ranker folder)")
    models = cli_models(args, _version_of(args.model) if args.model else None)
    selector = build_selector(args.selector, models, SelectorSettings(seed=args.seed))
    pool, rows = texts_pool([p.instruction for p in pairs], [p.response for p in pairs])
    if args.selector == "scar+diversity":
        pool = type(pool)(**{**pool.__dict__, "scar_scores": selector_ranker_scores(models, pool)})
    budget = len(pool) if args.threshold is not None else args.topk
    if args.ratio is not None:
        budget = rows_for_ratio(len(pool), args.ratio)
    scores = selector.scores(pool, int(budget))[rows]
    info = {"version": selector.version(pool, int(budget)), "format": selector.describe()}
    return [float(s) for s in scores], info


def selector_ranker_scores(models: Any, pool: Any) -> Any:
    """The StyleRanker's score of every pool row."""
    from scar_dagster.ranker.inference.scoring import score_pairs

    model, tokenizer = models.ranker.load()
    instructions, responses = pool.texts()
    return score_pairs(model, tokenizer, list(instructions), list(responses)).astype("float64")


def _version_of(path: str) -> str:
    from scar_dagster.selectors.models import ranker_of

    return str(ranker_of(path)[2]["version"])
