"""``scar-dagster``: the ranker outside Dagster (rank, train, inspect data, evaluate).

scar-dagster rank --model RANKER --input FILE (--topk N | --ratio R | --threshold T) --output OUT
scar-dagster filter --model RANKER --input FILE (--topk N | ...) --output OUT [--compat reference]
scar-dagster dedup --input FILE --output OUT.jsonl [--threshold 0.5 --near-method exact]
scar-dagster train --data PATH --out DIR [--epochs 20 --encoder all-MiniLM-L6-v2 ...]
scar-dagster data PATH
scar-dagster data export --format scar PATH OUT [--domain open --generator NAME]
scar-dagster inspect PATH [PATH ...] [--json]
scar-dagster compare POOL --selectors scar,ifd,length,random --ratio R [--pairs-path FILE]
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scar_dagster.cli_options import (
    cutoff_options,
    precision_options,
    ranker_options,
    run,
    stderr_logger,
)
from scar_dagster.evaluation.cli import add_evaluations
from scar_dagster.ranker.data.quadruple import CONSTRAINT_MODES

PROG = "scar-dagster"


def _logger() -> logging.Logger:
    return stderr_logger()


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


def _scores_with_progress(model: Any, tokenizer: Any, pairs: list[Any], args) -> list[float]:
    from scar_dagster.filter_cli import scores_with_progress

    instructions, responses = [p.instruction for p in pairs], [p.response for p in pairs]
    return scores_with_progress(model, tokenizer, instructions, responses, args).tolist()


def _cmd_rank(args: argparse.Namespace) -> int:
    from scar_dagster.ingest.pairs_file import read_pairs_any_format
    from scar_dagster.ranker.inference.toolkit import check_selection, filter_ranked, rank_order
    from scar_dagster.ranker.model.published import load_ranker

    check_selection(topk=args.topk, ratio=args.ratio, threshold=args.threshold)
    if args.selector == "scar" and not args.model:
        raise ValueError("rank with the scar selector needs --model (a ranker folder)")
    pairs, quarantined = read_pairs_any_format(Path(args.input))
    log = _logger()
    if quarantined:
        log.info(f"{args.input}: {sum(quarantined.values())} rows not read: {quarantined}")
    if args.selector == "scar":
        model, tokenizer, info = load_ranker(
            args.model, encoder=args.encoder, trust_remote_code=args.trust_remote_code
        )
        scores = _scores_with_progress(model, tokenizer, pairs, args)
    else:
        from scar_dagster.selectors.compare_cli import selector_rank_scores

        scores, info = selector_rank_scores(args, pairs)
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
    from scar_dagster.ranker.data.quadruple import fingerprint_quadruples
    from scar_dagster.ranker.data.sourcing import load_training_data
    from scar_dagster.ranker.model.architecture import (
        RankerConfig,
        build_ranker,
        remote_code_record,
    )
    from scar_dagster.ranker.model.checkpoint import save_checkpoint
    from scar_dagster.ranker.model.train import TrainParams, seed_everything, train_ranker

    log = _logger()
    data = load_training_data(args.data, s3_client=_s3_client(args.data), quality=args.quality)
    params = TrainParams(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        quality_threshold=args.quality_threshold,
        constraint_mode=args.constraint_mode,
        constraint_max=args.constraint_max,
        early_stopping_patience=args.early_stopping,
        num_threads=args.num_threads,
        device=args.device,
        dtype=args.dtype,
    )
    summary = data.summary(params.constraint)
    log.info(f"training data: {json.dumps(summary, sort_keys=True)}")
    config = RankerConfig(
        encoder=args.encoder, hidden_dim=args.hidden_dim, max_length=args.max_length
    )
    seed_everything(params.seed)
    model, tokenizer = build_ranker(config, trust_remote_code=args.trust_remote_code)
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
        remote_code_encoder=remote_code_record(result.model),
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


def _constraint(args: argparse.Namespace) -> Any:
    from scar_dagster.ranker.data.quadruple import QualityConstraint

    return QualityConstraint(args.quality_threshold, args.constraint_mode, args.constraint_max)


def _cmd_data(args: argparse.Namespace) -> int:
    from scar_dagster.ranker.data.sourcing import load_training_data

    data = load_training_data(args.path, s3_client=_s3_client(args.path), quality=args.quality)
    _json_line(data.summary(_constraint(args)))
    return 0


def _cmd_data_export(args: argparse.Namespace) -> int:
    from scar_dagster.ranker.data.sourcing import export_scar_layout, load_training_data

    data = load_training_data(args.path, s3_client=_s3_client(args.path), quality=args.quality)
    read = {
        "format": data.format,
        "rows": len(data.rows),
        "quarantined": data.quarantined_by_reason(),
    }
    if args.format == "scar":
        export = export_scar_layout(
            data,
            args.out,
            domain=args.domain,
            generator=args.generator,
            s3_client=_s3_client(args.out),
        )
        _json_line({"read": read, **export.summary()})
        return 0
    from scar_dagster.ranker.data.training_data import write_quadruples

    if data.format == "preference_pairs":
        raise ValueError(f"{args.path}: preference pairs are not quadruples")
    if args.out.startswith("s3://"):
        raise ValueError("--format quadruples writes a local JSONL file; OUT is an s3:// URI")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    _json_line({"read": read, "out": args.out, "written": write_quadruples(data.rows, args.out)})
    return 0


# --- parser -----------------------------------------------------------------------------------


def _data_options(parser: argparse.ArgumentParser, *, constraint: bool = True) -> None:
    """``--quality`` (how a SCAR folder is read) and, with ``constraint``, the quality
    constraint's options."""
    parser.add_argument(
        "--quality",
        default="help_correct",
        choices=["help_correct", "help", "correct"],
        help="SCAR data folder: quality = mean of help and correct scores, or one alone",
    )
    if not constraint:
        return
    parser.add_argument(
        "--quality-threshold",
        type=float,
        default=5.0,
        help="the quality constraint's minimum (the toolkit's constraint_min; paper: 5)",
    )
    parser.add_argument(
        "--constraint-mode",
        default="abs",
        choices=list(CONSTRAINT_MODES),
        help="which pairs train, as the SCAR toolkit (a/b: better/worse quality): abs "
        "min(a,b) > threshold and max(a,b) < max; abs_pos threshold < a < max; diff "
        "|a-b| < max; abs_diff |a-b| < max and min(a,b) > threshold; none all",
    )
    parser.add_argument(
        "--constraint-max",
        type=float,
        default=10.0,
        help="the toolkit's constraint_max (default 10: bounds nothing on 0-9 scores)",
    )


def _add_rank(commands: Any) -> None:
    rank = commands.add_parser(
        "rank",
        help="score instruction/response pairs and keep the best",
        description="Score every pair of FILE (JSONL, JSON array or Parquet in any layout the "
        "ingest reads) and write the kept rows as JSONL, best first, with their score.",
    )
    ranker_options(rank, required=False)
    from scar_dagster.selectors.registry import SELECTOR_NAMES

    rank.add_argument(
        "--selector",
        default="scar",
        choices=SELECTOR_NAMES,
        help="what scores the pairs: scar (the ranker of --model, the default) or another "
        "selector (docs/selectors.md)",
    )
    rank.add_argument("--lm", default=None, help="instruct LM folder (default: bundled SmolLM2)")
    rank.add_argument("--proxy-lm", default=None, help="superfiltering's small LM folder")
    rank.add_argument("--seed", type=int, default=0, help="seed of random and distilled")
    rank.add_argument("--input", required=True, help="pairs to rank")
    rank.add_argument("--output", required=True, help="JSONL to write")
    cutoff_options(rank)
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
    train.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow an encoder that runs its own Python code (gte-*-en-v1.5); only for code "
        "you trust",
    )
    precision_options(train)
    _data_options(train)
    train.set_defaults(run=_cmd_train)


DATA_COMMANDS = ("summary", "export")


def _add_data(commands: Any) -> None:
    data = commands.add_parser(
        "data",
        help="summarise or convert training data (quadruples, SCAR folder, pairs)",
        description="`data PATH` (short for `data summary PATH`) prints one JSON line: format, "
        "quadruples or pairs, quarantined rows by reason, the pairs the quality constraint "
        "allows. `data export` writes the data in another layout.",
    )
    actions = data.add_subparsers(dest="data_command", required=True)
    summary = actions.add_parser(
        "summary", help="one JSON line: format, counts, quarantined by reason, allowed pairs"
    )
    summary.add_argument(
        "path", help="quadruple JSONL, SCAR data folder or preference pairs (local or s3://)"
    )
    _data_options(summary)
    summary.set_defaults(run=_cmd_data)
    export = actions.add_parser(
        "export",
        help="write quadruples in the SCAR toolkit's layout, or a SCAR folder as our JSONL",
        description="--format scar: write OUT/ranker_data/<domain>/<generator>/"
        "instruction_response/{human,referenced,direct}.json and quality_measure/"
        "<kind>_{help,correct}_score.json (OUT local or s3://). --format quadruples: write "
        "our quadruple JSONL to the file OUT. Rows that cannot be written are counted by "
        "reason.",
    )
    export.add_argument("--format", required=True, choices=["scar", "quadruples"])
    export.add_argument("path", help="quadruple JSONL or SCAR data folder (local or s3://)")
    export.add_argument("out", help="scar: the root folder; quadruples: the JSONL file")
    export.add_argument("--domain", default="open", help="scar: the <domain> folder")
    export.add_argument(
        "--generator", default=None, help="scar: the <generator> folder (default: the rows')"
    )
    _data_options(export, constraint=False)
    export.set_defaults(run=_cmd_data_export)


def _add_evaluate(commands: Any) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="pairwise accuracy of a ranker, or a subset's style consistency"
    )
    add_evaluations(evaluate.add_subparsers(dest="evaluation", required=True))


def _add_inspect(commands: Any) -> None:
    from scar_dagster.ingest.inspect import add_inspect_command

    add_inspect_command(commands)


def _add_filter(commands: Any) -> None:
    from scar_dagster.filter_cli import add_filter_commands

    add_filter_commands(commands)


def _add_compare(commands: Any) -> None:
    from scar_dagster.selectors.compare_cli import add_compare_command

    add_compare_command(commands)


def build_parser() -> argparse.ArgumentParser:
    """The ``scar-dagster`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Style-consistency ranking of instruction data (SCAR) outside Dagster.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (
        _add_rank,
        _add_filter,
        _add_train,
        _add_data,
        _add_evaluate,
        _add_inspect,
        _add_compare,
    ):
        add(commands)
    return parser


def _data_shorthand(argv: Sequence[str]) -> list[str]:
    """``data PATH ...`` -> ``data summary PATH ...`` (the summary is the default)."""
    args = list(argv)
    if len(args) > 1 and args[0] == "data" and args[1] not in (*DATA_COMMANDS, "-h", "--help"):
        args.insert(1, "summary")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; 0 on success, 1 on a data, file or checkpoint error."""
    return run(build_parser(), _data_shorthand(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
