"""``scar-dagster``: the ranker outside Dagster (rank, train, inspect data, evaluate).

scar-dagster rank --model RANKER --input FILE (--topk N | --ratio R | --threshold T) --output OUT
scar-dagster train --data PATH --out DIR [--epochs 20 --encoder all-MiniLM-L6-v2 ...]
scar-dagster data PATH
scar-dagster inspect PATH [PATH ...] [--json]
scar-dagster evaluate pairs FILE --model RANKER
scar-dagster evaluate consistency POOL.parquet --ratio 0.25

RANKER is a checkpoint folder this package wrote or a ranker the SCAR authors publish (their
folder layout, or a hub id with hub access). Results go to stdout or --output; progress with
an ETA and every message go to stderr. Exit status 0 on success, 1 on a data, file or
checkpoint error (the message says which).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

PROG = "scar-dagster"


def _logger() -> logging.Logger:
    """A logger that writes plain lines to stderr (progress, epochs, notes)."""
    logger = logging.getLogger("scar_dagster.cli")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def _s3_client(location: str) -> Any:
    """A boto3 S3 client for ``s3://`` locations (credentials and AWS_ENDPOINT_URL from the
    environment), else None."""
    if not location.startswith("s3://"):
        return None
    import boto3

    return boto3.client("s3")


def _json_line(value: Any) -> None:
    print(json.dumps(value, sort_keys=True, default=str))


# --- rank -------------------------------------------------------------------------------------


def read_pairs_any_format(path: Path) -> tuple[list[Any], dict[str, int]]:
    """Instruction/response pairs of any file the ingest reads; rejected rows counted by reason."""
    from scar_dagster.ingest.normalize import Rejected, normalize_record
    from scar_dagster.ingest.readers import read_records

    pairs, rejected = [], {}
    with path.open("rb") as stream:
        for record in read_records(path.name, stream):
            reason = record.reason
            if reason is None:
                try:
                    pairs.append(
                        normalize_record(
                            record.payload,
                            source=path.stem,
                            origin_file=path.name,
                            origin_line=record.line,
                        )
                    )
                    continue
                except Rejected as error:
                    reason = error.reason
            rejected[reason] = rejected.get(reason, 0) + 1
    return pairs, dict(sorted(rejected.items()))


def _scores_with_progress(model: Any, tokenizer: Any, pairs: list[Any], args) -> list[float]:
    from scar_dagster.progress import Progress
    from scar_dagster.ranker.scoring import iter_scores

    progress = Progress("scoring", total=len(pairs), log=_logger(), unit="pairs")
    chunks: Iterator = iter_scores(
        model,
        tokenizer,
        [p.instruction for p in pairs],
        [p.response for p in pairs],
        batch_size=args.batch_size,
        num_threads=args.num_threads,
        chunk_size=256,
        device=args.device,
        dtype=args.dtype,
    )
    scores: list[float] = []
    for chunk in progress.track(chunks, size=len):
        scores.extend(float(s) for s in chunk)
    return scores


def _cmd_rank(args: argparse.Namespace) -> int:
    from scar_dagster.ranker.published import load_ranker
    from scar_dagster.ranker.toolkit import check_selection, filter_ranked, rank_order

    check_selection(topk=args.topk, ratio=args.ratio, threshold=args.threshold)
    pairs, rejected = read_pairs_any_format(Path(args.input))
    log = _logger()
    if rejected:
        log.info(f"{args.input}: {sum(rejected.values())} rows not read: {rejected}")
    model, tokenizer, info = load_ranker(
        args.model, encoder=args.encoder, trust_remote_code=args.trust_remote_code
    )
    scores = _scores_with_progress(model, tokenizer, pairs, args)
    ranked = [(pairs[i], i, scores[i]) for i in rank_order(scores)]
    kept = filter_ranked(ranked, topk=args.topk, ratio=args.ratio, threshold=args.threshold)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as out:
        for rank, (pair, _, score) in enumerate(kept, start=1):
            row = {"id": pair.id, "instruction": pair.instruction, "response": pair.response}
            row.update(score=score, rank=rank, origin_line=pair.origin_line)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    log.info(
        f"ranker {info['version']} ({info['format']}): kept {len(kept)} of {len(pairs)} pairs "
        f"-> {args.output}"
    )
    return 0


# --- train ------------------------------------------------------------------------------------


def _cmd_train(args: argparse.Namespace) -> int:
    from scar_dagster.progress import Progress
    from scar_dagster.ranker.checkpoint import save_checkpoint
    from scar_dagster.ranker.model import RankerConfig, build_ranker
    from scar_dagster.ranker.quadruple import fingerprint_quadruples
    from scar_dagster.ranker.sourcing import load_training_data
    from scar_dagster.ranker.train import TrainParams, seed_everything, train_ranker

    log = _logger()
    data = load_training_data(args.data, s3_client=_s3_client(args.data), quality=args.quality)
    summary = data.summary(args.quality_threshold)
    log.info(f"training data: {json.dumps(summary, sort_keys=True)}")
    params = TrainParams(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        quality_threshold=args.quality_threshold,
        early_stopping_patience=args.early_stopping,
        num_threads=args.num_threads,
        device=args.device,
        dtype=args.dtype,
    )
    config = RankerConfig(
        encoder=args.encoder, hidden_dim=args.hidden_dim, max_length=args.max_length
    )
    seed_everything(params.seed)
    model, tokenizer = build_ranker(config)
    progress = Progress("training", total=params.epochs, log=log, unit="epochs", interval=0)

    def on_epoch(line: str) -> None:
        log.info(line)
        if line.startswith("epoch "):
            progress.advance()

    records = data.records()
    result = train_ranker(model, tokenizer, records, params, log=on_epoch)
    progress.done()
    metrics = {**result.metrics, "training_data": data.describe()}
    version = save_checkpoint(
        result.model,
        config,
        args.out,
        training_fingerprint=fingerprint_quadruples(records, extra=params.__dict__),
        metrics=metrics,
        tokenizer=tokenizer,
    )
    _json_line(
        {
            "version": version,
            "out": str(args.out),
            "best_epoch": result.best_epoch,
            "val_accuracy": result.metrics["val"]["reference_accuracy"],
            "val_accuracy_quality_filtered": result.metrics["val"]["overall"],
            "test_accuracy": result.metrics["test"]["reference_accuracy"],
            "note": "val and test are splits of the training data (in-distribution); evaluate "
            "on a held-out preference file you trust with `scar-dagster evaluate pairs`",
            "data": summary,
        }
    )
    return 0


# --- data -------------------------------------------------------------------------------------


def _cmd_data(args: argparse.Namespace) -> int:
    from scar_dagster.ranker.sourcing import load_training_data

    data = load_training_data(args.path, s3_client=_s3_client(args.path), quality=args.quality)
    _json_line(data.summary(args.quality_threshold))
    return 0


# --- evaluate ---------------------------------------------------------------------------------


def _format(frame: Any, *, index: bool = True) -> str:
    return frame.to_string(index=index, float_format=lambda v: f"{v:.4f}")


def _cmd_evaluate_pairs(args: argparse.Namespace) -> int:
    from scar_dagster.evaluation.accuracy import evaluate_pair_rows, read_pairs
    from scar_dagster.ranker.published import load_ranker

    rows = read_pairs(args.file)
    model, tokenizer, info = load_ranker(
        args.model, encoder=args.encoder, trust_remote_code=args.trust_remote_code
    )
    from scar_dagster.ranker.scoring import for_inference

    model = for_inference(model, args.device, args.dtype)
    result = evaluate_pair_rows(rows, model, tokenizer, batch_size=args.batch_size)
    print(f"ranker {info['version']} on {args.file} (ties count as wrong)")
    print(_format(result.to_frame(), index=False))
    return 0


def _cmd_evaluate_consistency(args: argparse.Namespace) -> int:
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


# --- parser -----------------------------------------------------------------------------------


def _precision_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device", default="auto", help="auto (a GPU when torch sees one), cpu, cuda or cuda:N"
    )
    parser.add_argument(
        "--dtype",
        default="auto",
        help="auto (bfloat16 where the CPU has AMX/AVX512-BF16 or the GPU supports it), "
        "float32 or bfloat16",
    )


def _model_options(parser: argparse.ArgumentParser) -> None:
    _precision_options(parser)
    parser.add_argument(
        "--model",
        "--ranker",
        dest="model",
        required=True,
        help="ranker folder: a checkpoint of this package or a published SCAR ranker "
        "(config.json with model_type style_ranker), or a hub id (needs hub access)",
    )
    parser.add_argument(
        "--encoder",
        default=None,
        help="published SCAR ranker: local encoder folder overriding its encoder_name",
    )
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow an encoder that runs its own Python code (gte-*-en-v1.5); only for code "
        "you trust",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="texts per encoder batch")


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quality",
        default="help_correct",
        choices=["help_correct", "help", "correct"],
        help="SCAR data folder: quality = mean of help and correct scores, or one alone",
    )
    parser.add_argument(
        "--quality-threshold",
        type=float,
        default=5.0,
        help="a pair trains only if its qualities exceed this (paper: 5)",
    )


def _add_rank(commands: Any) -> None:
    rank = commands.add_parser(
        "rank",
        help="score instruction/response pairs and keep the best",
        description="Score every pair of FILE (JSONL, JSON array or Parquet in any layout the "
        "ingest reads) and write the kept rows as JSONL, best first, with their score.",
    )
    _model_options(rank)
    rank.add_argument("--input", required=True, help="pairs to rank")
    rank.add_argument("--output", required=True, help="JSONL to write")
    how = rank.add_mutually_exclusive_group(required=True)
    how.add_argument("--topk", type=int, help="keep the k best pairs")
    how.add_argument("--ratio", type=float, help="keep this share of pairs (rounded down)")
    how.add_argument("--threshold", type=float, help="keep pairs scoring >= this")
    rank.add_argument("--num-threads", type=int, default=None, help="concurrent encoder batches")
    rank.set_defaults(run=_cmd_rank)


def _add_train(commands: Any) -> None:
    train = commands.add_parser(
        "train",
        help="train a ranker on quadruples, a SCAR data folder or preference pairs",
        description="Train a StyleRanker with SCAR's losses and write its checkpoint. The "
        "best epoch is chosen by the reference's validation accuracy.",
    )
    train.add_argument(
        "--data", required=True, help="quadruple JSONL, SCAR folder or pairs (local or s3://)"
    )
    train.add_argument("--out", required=True, help="checkpoint folder to write")
    train.add_argument("--epochs", type=int, default=20, help="epochs (paper: up to 20)")
    train.add_argument("--batch-size", type=int, default=2, help="records per step (paper: 2)")
    train.add_argument("--lr", type=float, default=2e-5, help="AdamW learning rate")
    train.add_argument("--seed", type=int, default=42, help="seed of split, init and order")
    train.add_argument(
        "--encoder", default="all-MiniLM-L6-v2", help="encoder folder or id (default: bundled)"
    )
    train.add_argument("--hidden-dim", type=int, default=512, help="MLP hidden size L")
    train.add_argument("--max-length", type=int, default=512, help="tokens per text")
    train.add_argument(
        "--early-stopping", type=int, default=None, help="patience in epochs (default off)"
    )
    train.add_argument("--num-threads", type=int, default=None, help="torch threads")
    _precision_options(train)
    _data_options(train)
    train.set_defaults(run=_cmd_train)


def _add_data(commands: Any) -> None:
    data = commands.add_parser(
        "data",
        help="summarise a training-data file or folder as one JSON line",
        description="Print its format, quadruples or pairs count, rejected rows by reason and "
        "the pairs the quality constraint allows.",
    )
    data.add_argument(
        "path", help="quadruple JSONL, SCAR data folder or preference pairs (local or s3://)"
    )
    _data_options(data)
    data.set_defaults(run=_cmd_data)


def _add_evaluate(commands: Any) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="pairwise accuracy of a ranker, or a subset's style consistency"
    )
    kinds = evaluate.add_subparsers(dest="evaluation", required=True)
    pairs = kinds.add_parser(
        "pairs",
        help="pairwise accuracy (Wilson 95%% CI) on a preference file",
        description="FILE: JSONL or JSON array of {instruction, preferred, other} or "
        "{instruction|prompt, chosen, rejected}. Use held-out pairs you trust.",
    )
    pairs.add_argument("file", help="preference pairs")
    _model_options(pairs)
    pairs.set_defaults(run=_cmd_evaluate_pairs)
    consistency = kinds.add_parser(
        "consistency", help="style spread of the top-ratio subset vs random subsets"
    )
    consistency.add_argument("pool", help="Parquet/CSV with id, score and metric columns")
    consistency.add_argument("--ratio", type=float, required=True, help="share kept")
    consistency.add_argument("--score-column", default="score", help="score column")
    consistency.add_argument("--id-column", default="id", help="id column")
    consistency.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    consistency.add_argument("--columns", nargs="+", default=None, help="metric columns")
    consistency.set_defaults(run=_cmd_evaluate_consistency)


def _add_inspect(commands: Any) -> None:
    from scar_dagster.ingest.inspect import add_inspect_command

    add_inspect_command(commands)


def build_parser() -> argparse.ArgumentParser:
    """The ``scar-dagster`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Style-consistency ranking of instruction data (SCAR) outside Dagster.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_add_rank, _add_train, _add_data, _add_evaluate, _add_inspect):
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; 0 on success, 1 on a data, file or checkpoint error."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, KeyError, OSError, RuntimeError) as error:  # CheckpointError is one
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
