"""Command line of the evaluation: ``python -m scar_dagster.evaluation pairs|consistency``.

python -m scar_dagster.evaluation pairs FILE.jsonl --ranker CHECKPOINT_DIR [--dtype bfloat16]
python -m scar_dagster.evaluation consistency POOL.parquet --ratio 0.25 [--score-column score]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from scar_dagster.evaluation.accuracy import evaluate_pairs
from scar_dagster.evaluation.consistency import (
    DEFAULT_SEEDS,
    consistency_vs_random,
    read_table,
    select_ratio,
)
from scar_dagster.style.consistency import CONSISTENCY_METRICS


def _format(frame: pd.DataFrame, *, index: bool = True) -> str:
    return frame.to_string(index=index, float_format=lambda v: f"{v:.4f}")


def _cmd_pairs(args: argparse.Namespace) -> int:
    from scar_dagster.ranker.checkpoint import load_checkpoint
    from scar_dagster.ranker.scoring import for_inference

    model, tokenizer, document = load_checkpoint(args.ranker)
    model = for_inference(model, args.device, args.dtype)
    result = evaluate_pairs(args.file, model, tokenizer, batch_size=args.batch_size)
    print(f"ranker {document.get('version', '?')} on {args.file}")
    print(_format(result.to_frame(), index=False))
    return 0


def _cmd_consistency(args: argparse.Namespace) -> int:
    pool = read_table(args.pool)
    columns = tuple(args.columns) if args.columns else CONSISTENCY_METRICS
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


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m scar_dagster.evaluation`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scar_dagster.evaluation",
        description="Offline evaluation of a ranker and of a selected subset.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    pairs = commands.add_parser("pairs", help="pairwise accuracy of a ranker checkpoint")
    pairs.add_argument("file", help="JSONL with instruction, preferred, other")
    pairs.add_argument("--ranker", required=True, help="checkpoint folder (save_checkpoint)")
    pairs.add_argument("--batch-size", type=int, default=32)
    pairs.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N")
    pairs.add_argument("--dtype", default="float32", help="auto, float32 or bfloat16")
    pairs.set_defaults(run=_cmd_pairs)

    consistency = commands.add_parser(
        "consistency", help="style spread of the top-ratio subset vs random subsets"
    )
    consistency.add_argument("pool", help="Parquet/CSV with id, score and metric columns")
    consistency.add_argument("--ratio", type=float, required=True)
    consistency.add_argument("--score-column", default="score")
    consistency.add_argument("--id-column", default="id")
    consistency.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    consistency.add_argument("--columns", nargs="+", default=None, help="metric columns")
    consistency.set_defaults(run=_cmd_consistency)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; 0 on success, 1 on a data, file or checkpoint error (message on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, KeyError, OSError, RuntimeError) as error:  # CheckpointError is one
        print(f"error: {error}", file=sys.stderr)
        return 1
