"""Offline evaluation of a ranker and of a selected subset (SCAR, arXiv 2406.10882).

Two questions, each with a function and a CLI sub-command:

- **Does the ranker prefer the right response?** ``evaluate_pairs`` scores held-out
  ``(instruction, preferred, other)`` triples and reports pairwise accuracy with a Wilson 95%
  interval (``pairwise_accuracy_from_scores`` does the arithmetic on given scores).
- **Is the subset more style-consistent than chance?** ``consistency_vs_random`` compares the std
  of each style metric in the subset with seeded random subsets of the same size drawn from the
  same pool; ``ratio < 1`` means the subset is more consistent than plain subsampling.

CLI::

    python -m scar_dagster.evaluation pairs FILE.jsonl --ranker CHECKPOINT_DIR
    python -m scar_dagster.evaluation consistency POOL.parquet --ratio 0.25 [--score-column score]

Plain Python: no dagster import; torch is only imported (through the ranker modules) when a
checkpoint is loaded or pairs are scored.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster.ranker.pairs import (
    DEFAULT_QUALITY_THRESHOLD,
    PAIR_NAMES,
    PAIR_TYPES,
    Quadruple,
    pair_allowed,
    split_quadruples,
)
from scar_dagster.selection.report import random_subset_ids
from scar_dagster.style.consistency import CONSISTENCY_METRICS, style_consistency

Z_95 = 1.959963984540054  # two-sided 95% normal quantile
PAIR_FIELDS: tuple[str, ...] = ("instruction", "preferred", "other")
DEFAULT_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class AccuracyResult:
    """Pairwise accuracy over ``n`` pairs with its Wilson 95% interval.

    With ``n == 0`` the accuracy is NaN and the interval is the uninformative ``(0, 1)``.
    """

    accuracy: float
    n: int
    ci_low: float
    ci_high: float

    def to_frame(self) -> pd.DataFrame:
        """One-row table: n, accuracy, ci95_low, ci95_high."""
        return pd.DataFrame(
            [
                {
                    "n": self.n,
                    "accuracy": self.accuracy,
                    "ci95_low": self.ci_low,
                    "ci95_high": self.ci_high,
                }
            ]
        )


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``(0, 1)`` when ``n == 0``)."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def pairwise_accuracy_from_scores(
    preferred_scores: Iterable[float], other_scores: Iterable[float]
) -> AccuracyResult:
    """Share of pairs whose preferred response scores strictly higher than the other one.

    Ties count as wrong (a ranker that cannot tell the two apart gets no credit), and so does a
    NaN on either side. The interval is Wilson's 95% score interval.
    """
    preferred = np.asarray(list(preferred_scores), dtype=np.float64)
    other = np.asarray(list(other_scores), dtype=np.float64)
    if preferred.shape != other.shape or preferred.ndim != 1:
        raise ValueError(
            f"preferred and other scores must be 1-D of equal length, "
            f"got {preferred.shape} and {other.shape}"
        )
    n = int(preferred.size)
    correct = int(np.count_nonzero(preferred > other))  # NaN compares False -> wrong
    low, high = wilson_interval(correct, n)
    return AccuracyResult(accuracy=correct / n if n else math.nan, n=n, ci_low=low, ci_high=high)


def read_pairs(jsonl_path: str | Path) -> list[dict[str, str]]:
    """Rows ``{instruction, preferred, other}`` of a JSONL file; blank lines are skipped.

    Raises ValueError naming ``path:line`` for invalid JSON, a non-object row, or a missing or
    non-string field.
    """
    path = Path(jsonl_path)
    rows: list[dict[str, str]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}: line {number}: invalid JSON ({error.msg})") from error
            if not isinstance(row, dict):
                raise ValueError(
                    f"{path}: line {number}: expected a JSON object, got {type(row).__name__}"
                )
            missing = [f for f in PAIR_FIELDS if f not in row]
            if missing:
                raise ValueError(f"{path}: line {number}: missing field(s) {missing}")
            wrong = [f for f in PAIR_FIELDS if not isinstance(row[f], str)]
            if wrong:
                raise ValueError(f"{path}: line {number}: field(s) {wrong} must be strings")
            rows.append({f: row[f] for f in PAIR_FIELDS})
    return rows


def heldout_pairs(
    quads: Iterable[Quadruple],
    *,
    seed: int = 42,
    threshold: float = DEFAULT_QUALITY_THRESHOLD,
) -> list[dict[str, str]]:
    """Preference pairs from the test split of training quadruples (never trained on).

    The split is ``split_quadruples(quads, seed=seed)``'s, the one training uses with the same
    seed; each test quadruple gives its ``direct>referenced``, ``referenced>human`` and
    ``direct>human`` pairs that pass the quality constraint, as rows of ``read_pairs``'s form
    plus ``pair_type``.
    """
    rows = []
    for quad in split_quadruples(quads, seed=seed).test:
        for name, (better, worse) in zip(PAIR_NAMES, PAIR_TYPES, strict=True):
            if pair_allowed(quad, better, worse, threshold):
                rows.append(
                    {
                        "instruction": quad.instruction,
                        "preferred": quad.response(better),
                        "other": quad.response(worse),
                        "pair_type": name,
                    }
                )
    return rows


def evaluate_pairs(
    jsonl_path: str | Path, model: Any, tokenizer: Any, batch_size: int = 32
) -> AccuracyResult:
    """Pairwise accuracy of a StyleRanker on a JSONL file of ``instruction/preferred/other``.

    The whole file is validated before anything is scored (see ``read_pairs``).
    """
    return evaluate_pair_rows(read_pairs(jsonl_path), model, tokenizer, batch_size)


def evaluate_pair_rows(
    rows: Sequence[dict[str, str]], model: Any, tokenizer: Any, batch_size: int = 32
) -> AccuracyResult:
    """Pairwise accuracy of a StyleRanker on ``{instruction, preferred, other}`` rows."""
    if not rows:
        return pairwise_accuracy_from_scores([], [])
    from scar_dagster.ranker.scoring import score_pairs

    instructions = [r["instruction"] for r in rows]
    responses = [r["preferred"] for r in rows] + [r["other"] for r in rows]
    # One call: each instruction is encoded once for both of its responses.
    scores = score_pairs(model, tokenizer, instructions * 2, responses, batch_size=batch_size)
    n = len(rows)
    return pairwise_accuracy_from_scores(scores[:n], scores[n:])


def _std(stats: dict[str, dict[str, Any]], metric: str) -> float:
    value = stats[metric]["std"]
    return math.nan if value is None else float(value)


def consistency_vs_random(
    pool: pd.DataFrame,
    subset_ids: Iterable[str],
    *,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    columns: Sequence[str] = CONSISTENCY_METRICS,
    id_column: str = "id",
) -> pd.DataFrame:
    """Std of each style metric in the subset against same-size seeded random pool subsets.

    Returns a frame indexed by ``metric`` with ``subset_std``, ``random_std_mean`` (mean over the
    seeds), ``random_std_sd`` (sample std over the seeds, NaN with one seed) and
    ``ratio = subset_std / random_std_mean`` (NaN when undefined). Random subsets are drawn from
    all distinct pool ids, subset included, with ``random_subset_ids`` — deterministic for given
    seeds and independent of row order. Stds are ``style_consistency``'s (ddof=1, finite values).
    Subset ids absent from the pool raise ValueError.
    """
    if id_column not in pool.columns:
        raise KeyError(f"consistency_vs_random: pool has no {id_column!r} column")
    if not seeds:
        raise ValueError("consistency_vs_random: need at least one seed")
    table = pool.assign(**{id_column: pool[id_column].astype(str)}).drop_duplicates(id_column)
    table = table.set_index(id_column)
    chosen = sorted({str(i) for i in subset_ids})
    unknown = [i for i in chosen if i not in table.index]
    if unknown:
        raise ValueError(
            f"consistency_vs_random: {len(unknown)} subset id(s) not in the pool, "
            f"e.g. {unknown[:3]}"
        )
    subset_stats = style_consistency(table.loc[chosen], columns)
    random_stats = [
        style_consistency(table.loc[random_subset_ids(table.index, len(chosen), seed)], columns)
        for seed in seeds
    ]
    rows = []
    for metric in columns:
        stds = np.array([_std(stats, metric) for stats in random_stats], dtype=np.float64)
        finite = stds[np.isfinite(stds)]
        mean = float(finite.mean()) if finite.size else math.nan
        sd = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
        subset_std = _std(subset_stats, metric)
        ratio = subset_std / mean if mean and math.isfinite(mean) else math.nan
        rows.append(
            {
                "metric": metric,
                "subset_std": subset_std,
                "random_std_mean": mean,
                "random_std_sd": sd,
                "ratio": ratio,
            }
        )
    return pd.DataFrame(rows).set_index("metric").astype("float64")


def select_ratio(
    pool: pd.DataFrame,
    ratio: float,
    *,
    scores_column: str = "score",
    id_column: str = "id",
) -> list[str]:
    """Ids of the top ``ratio`` of the pool by score (desc), ties by id (asc).

    Takes ``round(ratio * n)`` distinct ids, at least one when the pool is non-empty; rows with
    a NaN score rank last. ``ratio`` must be in (0, 1].
    """
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    for column in (scores_column, id_column):
        if column not in pool.columns:
            raise KeyError(f"select_ratio: pool has no {column!r} column")
    frame = pd.DataFrame(
        {
            "id": pool[id_column].astype(str),
            "score": pd.to_numeric(pool[scores_column], errors="coerce").astype("float64"),
        }
    )
    frame = frame.sort_values(
        ["score", "id"], ascending=[False, True], na_position="last", kind="mergesort"
    ).drop_duplicates("id")
    if frame.empty:
        return []
    k = max(1, min(len(frame), round(ratio * len(frame))))
    return frame["id"].head(k).tolist()


def read_table(path: str | Path) -> pd.DataFrame:
    """A Parquet (``.parquet``/``.pq``) or CSV file as a DataFrame."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype={"id": str})
    raise ValueError(f"{path}: expected a .parquet or .csv file")


def _format(frame: pd.DataFrame, *, index: bool = True) -> str:
    return frame.to_string(index=index, float_format=lambda v: f"{v:.4f}")


def _cmd_pairs(args: argparse.Namespace) -> int:
    from scar_dagster.ranker.checkpoint import load_checkpoint

    model, tokenizer, document = load_checkpoint(args.ranker)
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
        prog="python -m scar_dagster.evaluation", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    pairs = commands.add_parser("pairs", help="pairwise accuracy of a ranker checkpoint")
    pairs.add_argument("file", help="JSONL with instruction, preferred, other")
    pairs.add_argument("--ranker", required=True, help="checkpoint folder (save_checkpoint)")
    pairs.add_argument("--batch-size", type=int, default=32)
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


if __name__ == "__main__":
    raise SystemExit(main())
