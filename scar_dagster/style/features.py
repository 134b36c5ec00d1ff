"""The style_features table: linguistic form and instructional surprisal per raw pair."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from scar_dagster.progress import Progress
from scar_dagster.style.form import FORM_FEATURE_COLUMNS, compute_form_features
from scar_dagster.style.surprisal import relatedness, response_perplexity

if TYPE_CHECKING:
    import pandas as pd

FEATURES_EMPTY_RESPONSE = "features_empty_response"
FEATURES_NO_WORDS = "features_no_words"
FEATURES_TOO_LONG = "features_too_long"

SURPRISAL_COLUMNS: tuple[str, ...] = ("perplexity", "relatedness", "truncated")
STYLE_FEATURE_COLUMNS: tuple[str, ...] = (
    "id",
    "source",
    *FORM_FEATURE_COLUMNS,
    *SURPRISAL_COLUMNS,
    "degenerate_reason",
)
INPUT_COLUMNS = ("id", "source", "instruction", "response")


@dataclass(frozen=True)
class StyleFeatureParams:
    """How style features are computed; defaults follow SCAR (arXiv 2406.10882).

    Attributes:
        compute_perplexity: score responses with the instruct LM (else ``perplexity`` is NaN).
        compute_relatedness: embed pairs with the sentence encoder (else ``relatedness`` is NaN).
        perplexity_batch_size: pairs per LM forward pass.
        perplexity_max_tokens: prompt + response tokens seen by the LM (SCAR encodes 512).
        relatedness_batch_size: texts per encoder forward pass.
        relatedness_max_tokens: tokens per text for the encoder (all-MiniLM-L6-v2 uses 256).
        max_response_chars: longer responses are degenerate (``features_too_long``); None: no cap.
        num_threads: torch threads while scoring; None leaves torch's setting alone.
    """

    compute_perplexity: bool = True
    compute_relatedness: bool = True
    perplexity_batch_size: int = 8
    perplexity_max_tokens: int = 512
    relatedness_batch_size: int = 32
    relatedness_max_tokens: int = 256
    max_response_chars: int | None = 100_000
    num_threads: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "perplexity_batch_size",
            "perplexity_max_tokens",
            "relatedness_batch_size",
            "relatedness_max_tokens",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


def models_precision_metadata(
    *, lm: tuple[Any, Any] | None, encoder: tuple[Any, Any] | None
) -> dict[str, str]:
    """Device and dtype of the loaded LM and encoder (``lm_device``, ``encoder_dtype``, ...)."""
    from scar_dagster.precision import precision_of

    out: dict[str, str] = {}
    for prefix, loaded in (("lm_", lm), ("encoder_", encoder)):
        if loaded is not None:
            out.update(precision_of(loaded[1]).to_metadata(prefix))
    return out


def degenerate_reason(response: Any, max_chars: int | None = None) -> str | None:
    """Return why a response cannot be featurized before any work is done, or None."""
    if not isinstance(response, str) or not response.strip():
        return FEATURES_EMPTY_RESPONSE
    if max_chars is not None and len(response) > max_chars:
        return FEATURES_TOO_LONG
    return None


def compute_style_features(
    pairs: pd.DataFrame,
    *,
    lm: tuple[Any, Any] | None,
    encoder: tuple[Any, Any] | None,
    params: StyleFeatureParams | None = None,
    log: Any = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Compute ``STYLE_FEATURE_COLUMNS`` for a raw_pairs frame, one row per input row, in order.

    ``lm`` and ``encoder`` are ``(tokenizer, model)`` pairs, each run on its own device and
    dtype (see ``base_models.load_causal_lm`` / ``load_encoder``); when one is None (or disabled
    in ``params``) its column is NaN and ``truncated`` is null. Degenerate rows keep their id and
    source, get null features and a ``degenerate_reason`` (``features_*``); valid rows have a
    null reason. ``log`` (e.g. Dagster's ``context.log``) gets progress lines per phase.

    ``progress`` (e.g. one spanning a partition fed batch by batch) replaces those per-phase
    lines: it is advanced by this call's rows as the slowest active phase (perplexity, else
    relatedness, else form) gets through them, and is not finished (no ``done()``) here.
    """
    import pandas as pd

    params = params or StyleFeatureParams()
    missing = [column for column in INPUT_COLUMNS if column not in pairs.columns]
    if missing:
        raise ValueError(f"pairs lacks column(s) {missing}; expected {list(INPUT_COLUMNS)}")
    responses = pairs["response"].tolist()
    reasons = [degenerate_reason(text, params.max_response_chars) for text in responses]
    form_rows = []
    lead = _lead_phase(lm, encoder, params)
    form_progress = _phase("form", len(responses), "rows", lead, progress, log)
    for i, text in enumerate(responses):
        row = compute_form_features(text) if reasons[i] is None else None
        if row is not None and math.isnan(row["n_words"]):
            reasons[i], row = FEATURES_NO_WORDS, None
        form_rows.append(row or dict.fromkeys(FORM_FEATURE_COLUMNS, math.nan))
        form_progress.advance()
    form_progress.done()

    keys = pairs[["id", "source"]].reset_index(drop=True)
    form = pd.DataFrame.from_records(form_rows, columns=list(FORM_FEATURE_COLUMNS))
    out = pd.concat([keys, form.astype("float64")], axis=1)
    valid = [i for i, reason in enumerate(reasons) if reason is None]
    instructions = [_as_text(x) for x in pairs["instruction"].tolist()]
    ppl_progress = _phase("perplexity", len(valid), "rows", lead, progress, log)
    perplexity, truncated = _perplexity(lm, params, instructions, responses, valid, ppl_progress)
    out["perplexity"] = perplexity
    rel_progress = _phase("relatedness", 2 * len(valid), "texts", lead, progress, log)
    out["relatedness"] = _relatedness(encoder, params, instructions, responses, valid, rel_progress)
    if progress is not None:  # the rows the lead phase did not see (degenerate ones)
        phases = (form_progress, ppl_progress, rel_progress)
        progress.advance(len(responses) - sum(getattr(p, "sent", 0) for p in phases))
    out["truncated"] = pd.array(truncated, dtype="boolean")
    out["degenerate_reason"] = pd.Series(reasons, dtype="str", index=out.index)
    return out


class _Share:
    """A phase's progress feeding a caller's ``Progress`` (``scale`` rows per phase unit), or
    nothing (``target`` None); ``done()`` is left to the caller's owner."""

    def __init__(self, target: Progress | None, scale: float = 1.0) -> None:
        self.target, self.scale, self.units, self.sent = target, scale, 0, 0

    def advance(self, n: int = 1) -> None:
        self.units += n
        rows = int(self.units * self.scale) - self.sent
        if rows and self.target is not None:
            self.sent += rows
            self.target.advance(rows)

    def done(self) -> None:
        return None


def _lead_phase(
    lm: tuple[Any, Any] | None, encoder: tuple[Any, Any] | None, params: StyleFeatureParams
) -> str:
    """The slowest phase that runs: it drives a caller's row progress."""
    if lm is not None and params.compute_perplexity:
        return "perplexity"
    if encoder is not None and params.compute_relatedness:
        return "relatedness"
    return "form"


def _phase(
    name: str, total: int, unit: str, lead: str, progress: Progress | None, log: Any
) -> Progress | _Share:
    """The progress of phase ``name``: its own (no caller's ``progress``), else a share of it."""
    if progress is None:
        return Progress(f"style features: {name}", total, log, unit=unit)
    if name != lead:
        return _Share(None)
    return _Share(progress, 0.5 if unit == "texts" else 1.0)


def _as_text(value: Any) -> str:
    """Instruction text; a missing instruction becomes the empty string."""
    return value if isinstance(value, str) else ""


def _perplexity(
    lm: tuple[Any, Any] | None,
    params: StyleFeatureParams,
    instructions: Sequence[str],
    responses: Sequence[Any],
    valid: list[int],
    progress: Progress | _Share,
) -> tuple[np.ndarray, list[bool | None]]:
    """Perplexity and truncation flags for the valid rows (NaN / None elsewhere)."""
    values = np.full(len(responses), np.nan)
    flags: list[bool | None] = [None] * len(responses)
    if lm is None or not params.compute_perplexity or not valid:
        return values, flags
    scores, cut = response_perplexity(
        *lm,
        [instructions[i] for i in valid],
        [responses[i] for i in valid],
        batch_size=params.perplexity_batch_size,
        max_tokens=params.perplexity_max_tokens,
        num_threads=params.num_threads,
        on_batch=progress.advance,
    )
    progress.done()
    values[valid] = scores
    for i, flag in zip(valid, cut.tolist(), strict=True):
        flags[i] = flag
    return values, flags


def _relatedness(
    encoder: tuple[Any, Any] | None,
    params: StyleFeatureParams,
    instructions: Sequence[str],
    responses: Sequence[Any],
    valid: list[int],
    progress: Progress | _Share,
) -> np.ndarray:
    """Instruction/response cosine for the valid rows (NaN elsewhere)."""
    values = np.full(len(responses), np.nan)
    if encoder is None or not params.compute_relatedness or not valid:
        return values
    values[valid] = relatedness(
        *encoder,
        [instructions[i] for i in valid],
        [responses[i] for i in valid],
        batch_size=params.relatedness_batch_size,
        max_tokens=params.relatedness_max_tokens,
        num_threads=params.num_threads,
        on_batch=progress.advance,
    )
    progress.done()
    return values
