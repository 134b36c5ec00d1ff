"""The ``evaluate`` commands: ``scar-dagster evaluate pairs|consistency``, also runnable alone.

python -m scar_dagster.evaluation pairs FILE.jsonl --ranker CHECKPOINT_DIR [--dtype bfloat16]
python -m scar_dagster.evaluation consistency POOL.parquet --ratio 0.25 [--score-column score]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from scar_dagster.cli_options import ranker_options, run

PROG = "python -m scar_dagster.evaluation"


def _format(frame: Any, *, index: bool = True) -> str:
    return frame.to_string(index=index, float_format=lambda v: f"{v:.4f}")


def _cmd_pairs(args: argparse.Namespace) -> int:
    from scar_dagster.evaluation.accuracy import evaluate_pair_rows, read_pairs
    from scar_dagster.ranker.inference.scoring import for_inference
    from scar_dagster.ranker.model.published import load_ranker

    rows = read_pairs(args.file)
    model, tokenizer, info = load_ranker(
        args.model, encoder=args.encoder, trust_remote_code=args.trust_remote_code
    )
    model = for_inference(model, args.device, args.dtype)
    result = evaluate_pair_rows(rows, model, tokenizer, batch_size=args.batch_size)
    print(f"ranker {info['version']} on {args.file} (ties count as wrong)")
    print(_format(result.to_frame(), index=False))
    return 0


def _cmd_consistency(args: argparse.Namespace) -> int:
    from scar_dagster.evaluation.consistency import (
        consistency_vs_random,
        read_table,
        select_ratio,
    )
    from scar_dagster.schema import STYLE_METRICS

    pool = read_table(args.pool)
    columns = tuple(args.columns) if args.columns else STYLE_METRICS
    chosen = select_ratio(
        pool, args.ratio, scores_column=args.score_column, id_column=args.id_column
    )
    table = consistency_vs_random(
        pool, chosen, seeds=tuple(args.seeds), columns=columns, id_column=args.id_column
    )
    print(
        f"subset: top {args.ratio:g} by {args.score_column} = {len(chosen)} of "
        f"{pool[args.id_column].nunique()} rows; random: seeds {list(args.seeds)}"
    )
    print(_format(table))
    return 0


def add_evaluations(kinds: Any) -> None:
    """Add ``pairs`` and ``consistency`` to the subparsers ``kinds``."""
    pairs = kinds.add_parser(
        "pairs",
        help="pairwise accuracy (Wilson 95%% CI) on a preference file",
        description="FILE: JSONL or JSON array of {instruction, preferred, other} or "
        "{instruction|prompt, chosen, rejected}. Use held-out pairs you trust.",
    )
    pairs.add_argument("file", help="preference pairs")
    ranker_options(pairs)
    pairs.set_defaults(run=_cmd_pairs)
    consistency = kinds.add_parser(
        "consistency", help="style spread of the top-ratio subset vs random subsets"
    )
    consistency.add_argument("pool", help="Parquet/CSV with id, score and metric columns")
    consistency.add_argument("--ratio", type=float, required=True, help="share kept")
    consistency.add_argument("--score-column", default="score", help="score column")
    consistency.add_argument("--id-column", default="id", help="id column")
    consistency.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    consistency.add_argument("--columns", nargs="+", default=None, help="metric columns")
    consistency.set_defaults(run=_cmd_consistency)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m scar_dagster.evaluation`` (= ``scar-dagster evaluate``)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Pairwise accuracy of a ranker, or a subset's style consistency."
    )
    add_evaluations(parser.add_subparsers(dest="evaluation", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``scar-dagster evaluate ARGV``; 0 on success, 1 on a data, file or checkpoint error."""
    return run(build_parser(), argv)
