"""``rank_and_filter`` for users outside Dagster, with the meaning of SCAR's toolkit function.

Example::

    from scar_dagster.ranker.inference.toolkit import rank_and_filter

    kept = rank_and_filter("checkpoints/ranker", instructions, answers, ratio=0.25)
    for instruction, answer, score in kept: ...

Differences from the reference, by design: the checkpoint load is strict, ties are broken by input
order (score descending, then input index), and the scorer handles any batch shape.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

from scar_dagster.selection.cutoff import rows_for_ratio

Ranked = list[tuple[str, str, float]]


def check_selection(
    *, topk: int | None = None, ratio: float | None = None, threshold: float | None = None
) -> None:
    """Raise ValueError unless exactly one of topk / ratio / threshold is given and valid."""
    given = [
        name
        for name, v in (("topk", topk), ("ratio", ratio), ("threshold", threshold))
        if v is not None
    ]
    if len(given) != 1:
        raise ValueError(
            f"exactly one of topk, ratio or threshold must be given, got {given or 'none'}"
        )
    if topk is not None and (isinstance(topk, bool) or not isinstance(topk, int) or topk < 0):
        raise ValueError(f"topk must be an int >= 0, got {topk!r}")
    if ratio is not None and not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be within [0, 1], got {ratio!r}")
    if threshold is not None and math.isnan(threshold):
        raise ValueError("threshold must not be NaN")


def rank_order(scores: Sequence[float]) -> list[int]:
    """Indices by score descending, then input index; NaN scores rank last."""
    return sorted(
        range(len(scores)),
        key=lambda i: (math.isnan(scores[i]), -scores[i] if not math.isnan(scores[i]) else 0.0, i),
    )


def rank_pairs(
    instructions: Sequence[str], answers: Sequence[str], scores: Sequence[float]
) -> Ranked:
    """``(instruction, answer, score)`` sorted by ``rank_order``."""
    return [(instructions[i], answers[i], float(scores[i])) for i in rank_order(scores)]


def filter_ranked(
    ranked: Ranked,
    *,
    topk: int | None = None,
    ratio: float | None = None,
    threshold: float | None = None,
) -> Ranked:
    """Keep the first ``topk``, the first ``floor(len * ratio)``, or all with score >= threshold."""
    check_selection(topk=topk, ratio=ratio, threshold=threshold)
    if topk is not None:
        return ranked[:topk]
    if ratio is not None:
        return ranked[: rows_for_ratio(len(ranked), ratio)]
    return [row for row in ranked if row[2] >= threshold]


def rank_and_filter(
    model_path: str | os.PathLike[str],
    instructions: Iterable[str],
    answers: Iterable[str],
    *,
    topk: int | None = None,
    ratio: float | None = None,
    threshold: float | None = None,
    batch_size: int = 32,
    device: str = "cpu",
    max_length: int | None = None,
    num_threads: int | None = None,
    encoder: str | None = None,
    trust_remote_code: bool = False,
    dtype: str = "float32",
) -> Ranked:
    """Score pairs with the ranker at ``model_path`` and keep the best ones.

    ``model_path`` is a checkpoint this package wrote, or a ranker the SCAR authors publish
    (their folder layout, or a hub id for users with hub access; ``encoder`` overrides its
    ``encoder_name``, e.g. with a local folder; ``trust_remote_code`` is needed for encoders
    that run their own code, such as gte-*-en-v1.5).

    Exactly one of ``topk`` (keep k), ``ratio`` (keep that share, rounded down) or ``threshold``
    (keep score >= threshold) must be given. Returns ``(instruction, answer, score)`` tuples,
    best first; equal scores keep input order. ``device`` (``auto``, ``cpu``, ``cuda[:N]``) and
    ``dtype`` (``auto``, ``float32``, ``bfloat16``) choose where and how the encoder runs.
    """
    from scar_dagster.ranker.inference.scoring import score_pairs
    from scar_dagster.ranker.model.published import load_ranker

    check_selection(topk=topk, ratio=ratio, threshold=threshold)
    instructions, answers = list(instructions), list(answers)
    if len(instructions) != len(answers):
        raise ValueError(f"{len(instructions)} instructions but {len(answers)} answers")
    model, tokenizer, _ = load_ranker(
        model_path, encoder=encoder, trust_remote_code=trust_remote_code
    )
    scores = score_pairs(
        model,
        tokenizer,
        instructions,
        answers,
        batch_size=batch_size,
        max_length=max_length,
        num_threads=num_threads,
        device=device,
        dtype=dtype,
    )
    ranked = rank_pairs(instructions, answers, scores.tolist())
    return filter_ranked(ranked, topk=topk, ratio=ratio, threshold=threshold)
