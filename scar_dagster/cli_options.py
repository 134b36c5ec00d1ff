"""Options and the error exit shared by ``scar-dagster`` and ``python -m scar_dagster.evaluation``.

Both command lines take a ranker the same way (``ranker_options``) and exit the same way
(``run``): status 0 on success, 1 with one ``error:`` line on a data, file or checkpoint error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any


class _StderrHandler(logging.StreamHandler):
    """A stream handler writing to whatever ``sys.stderr`` is when a line is emitted (not the
    stream of the first call: a caller may redirect stderr between calls)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def stderr_logger() -> logging.Logger:
    """A logger that writes plain lines to stderr (progress, epochs, notes)."""
    logger = logging.getLogger("scar_dagster.cli")
    if not logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def precision_options(parser: argparse.ArgumentParser) -> None:
    """``--device`` and ``--dtype`` (see ``scar_dagster.precision``)."""
    parser.add_argument(
        "--device", default="auto", help="auto (a GPU when torch sees one), cpu, cuda or cuda:N"
    )
    parser.add_argument(
        "--dtype",
        default="auto",
        help="auto (bfloat16 where the CPU has AMX/AVX512-BF16 or the GPU supports it), "
        "float32 or bfloat16",
    )


def ranker_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """The ranker to load (``--model``, ours or SCAR-published), its encoder and batch size."""
    precision_options(parser)
    parser.add_argument(
        "--model",
        "--ranker",
        dest="model",
        required=required,
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


def cutoff_options(parser: argparse.ArgumentParser) -> None:
    """Exactly one of ``--topk``, ``--ratio`` or ``--threshold`` (the toolkit's cutoffs)."""
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--topk", type=int, help="keep the k best pairs")
    how.add_argument("--ratio", type=float, help="keep this share of pairs (rounded down)")
    how.add_argument("--threshold", type=float, help="keep pairs scoring >= this")


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the chosen command (its ``run`` default); 0 or 1 as above."""
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, KeyError, OSError, RuntimeError) as error:  # CheckpointError is one
        print(f"error: {error}", file=sys.stderr)
        return 1
