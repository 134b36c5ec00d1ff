"""The style_features table: linguistic form and instructional surprisal per raw pair.

Form features are cheap and computed for every row. Perplexity (the instruct LM, the costly
part) and relatedness (the sentence encoder) are computed for every row (``all``), for the
partition's drift sample only (``read``, the default: what the drift check and the feature
stats read; the selection fetches the perplexity of what it reads itself, through the same
cache), or not at all (``off``). Perplexities go through ``surprisal_cache.perplexity_for``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from scar_dagster.batching import DEFAULT_BATCH_TOKENS
from scar_dagster.progress import Progress
from scar_dagster.style.form import FORM_FEATURE_COLUMNS, compute_form_features
from scar_dagster.style.sampling import DEFAULT_SAMPLE_ROWS, DEFAULT_SAMPLE_SEED, bottom_k
from scar_dagster.style.surprisal import relatedness
from scar_dagster.style.surprisal_cache import PerplexityLM, perplexity_for

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

ReadMode = Literal["all", "read", "off"]
READ_MODES: tuple[ReadMode, ...] = ("all", "read", "off")


@dataclass(frozen=True)
class StyleFeatureParams:
    """How style features are computed; defaults follow SCAR (arXiv 2406.10882).

    Attributes:
        perplexity: ``all`` rows, the drift sample only (``read``) or ``off`` (NaN).
        relatedness: the same choice for the encoder cosine.
        sample_rows: the drift sample: this many rows of a partition (``sampling.bottom_k``).
        sample_seed: seed of the sample's random numbers (the selection's samples use the same
            seed by default, so they share rows with it).
        relatedness_batch_size: texts per encoder forward pass.
        relatedness_max_tokens: tokens per text for the encoder (all-MiniLM-L6-v2 uses 256).
        relatedness_batch_tokens: padded tokens per encoder forward pass.
        max_response_chars: longer responses are degenerate (``features_too_long``); None: no cap.
        num_threads: torch threads while embedding; None leaves torch's setting alone (the LM's
            own are ``PerplexityLM.num_threads``).
    """

    perplexity: ReadMode = "read"
    relatedness: ReadMode = "read"
    sample_rows: int = DEFAULT_SAMPLE_ROWS
    sample_seed: int = DEFAULT_SAMPLE_SEED
    relatedness_batch_size: int = 32
    relatedness_max_tokens: int = 256
    relatedness_batch_tokens: int = DEFAULT_BATCH_TOKENS
    max_response_chars: int | None = 100_000
    num_threads: int | None = None

    def __post_init__(self) -> None:
        for name in ("perplexity", "relatedness"):
            if getattr(self, name) not in READ_MODES:
                raise ValueError(f"{name} must be one of {READ_MODES}, got {getattr(self, name)!r}")
        for name in (
            "relatedness_batch_size",
            "relatedness_max_tokens",
            "relatedness_batch_tokens",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.sample_rows < 0:
            raise ValueError(f"sample_rows must be >= 0, got {self.sample_rows}")


def drift_sample(ids: Iterable[pd.DataFrame | pd.Series], params: StyleFeatureParams) -> set[str]:
    """The ids of a partition's drift sample (``params.sample_rows`` of them, seeded), from its
    ids (batches of frames with an ``id`` column, or of id series): empty when nothing is
    computed for the sample."""
    import pandas as pd

    if "read" not in (params.perplexity, params.relatedness):
        return set()
    parts = [part["id"] if isinstance(part, pd.DataFrame) else part for part in ids]
    every = pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype="str")
    chosen = bottom_k(every, params.sample_rows, params.sample_seed)
    return set(every[chosen].astype(str))


def models_precision_metadata(
    *, lm: PerplexityLM | None, encoder: tuple[Any, Any] | None
) -> dict[str, str]:
    """Device and dtype of the LM and the loaded encoder (``lm_device``, ``encoder_dtype``,
    ...) and the LM's perplexity version (``perplexity_model_version``)."""
    from scar_dagster.precision import Precision, precision_of

    out: dict[str, str] = {}
    if lm is not None:
        device, dtype = lm.precision.split("/")
        out.update(Precision(device, dtype).to_metadata("lm_"))
        out["perplexity_model_version"] = lm.version
    if encoder is not None:
        out.update(precision_of(encoder[1]).to_metadata("encoder_"))
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
    lm: PerplexityLM | None,
    encoder: tuple[Any, Any] | None,
    params: StyleFeatureParams | None = None,
    store: Any = None,
    sample: np.ndarray | None = None,
    log: Any = None,
    progress: Progress | None = None,
    cost: Counter[str] | None = None,
) -> pd.DataFrame:
    """Compute ``STYLE_FEATURE_COLUMNS`` for a raw_pairs frame, one row per input row, in order.

    ``lm`` gives perplexities through ``perplexity_for`` and ``store`` (a SQLAlchemy engine
    caching them; None: computed, not kept); ``encoder`` is a ``(tokenizer, model)`` pair run on
    its own device and dtype (``base_models.load_encoder``). A mode ``read`` of ``params``
    computes its column for the rows of ``sample`` (a bool mask; default the ``sample_rows``
    rows of this frame with the smallest seeded keys). A column not computed is NaN and
    ``truncated`` null where no perplexity was computed. Degenerate rows keep their id and
    source, get null features and a ``degenerate_reason`` (``features_*``); valid rows have a
    null reason. ``log`` (e.g. Dagster's ``context.log``) gets progress lines per phase;
    ``cost`` (if given) counts the pairs whose perplexity was ``computed`` and ``reused``.

    ``progress`` (e.g. one spanning a partition fed batch by batch) replaces those per-phase
    lines: it is advanced by this call's rows as the slowest phase run on every row
    (perplexity, else relatedness, else form) gets through them, and is not finished here.
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
    valid = np.asarray([reason is None for reason in reasons], dtype=bool)
    if sample is None:
        sample = bottom_k(keys["id"], params.sample_rows, params.sample_seed)
    instructions = [_as_text(x) for x in pairs["instruction"].tolist()]
    texts = (instructions, responses)
    ppl_rows = _rows(params.perplexity if lm is not None else "off", valid, sample)
    ppl_progress = _phase("perplexity", len(ppl_rows), "rows", lead, progress, log)
    perplexity, truncated, spent = _perplexity(lm, store, keys["id"], texts, ppl_rows, ppl_progress)
    out["perplexity"] = perplexity
    rel_rows = _rows(params.relatedness if encoder is not None else "off", valid, sample)
    rel_progress = _phase("relatedness", 2 * len(rel_rows), "texts", lead, progress, log)
    out["relatedness"] = _relatedness(encoder, params, texts, rel_rows, rel_progress)
    if progress is not None:  # the rows the lead phase did not see
        phases = (form_progress, ppl_progress, rel_progress)
        progress.advance(len(responses) - sum(getattr(p, "sent", 0) for p in phases))
    out["truncated"] = pd.array(truncated, dtype="boolean")
    out["degenerate_reason"] = pd.Series(reasons, dtype="str", index=out.index)
    if cost is not None:
        cost.update(computed=spent[0], reused=spent[1])
    return out


def _rows(mode: ReadMode, valid: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Positions of the rows a column is computed for under ``mode``."""
    if mode == "all":
        return np.flatnonzero(valid)
    if mode == "read":
        return np.flatnonzero(valid & np.asarray(sample, dtype=bool))
    return np.zeros(0, dtype=np.int64)


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
    lm: PerplexityLM | None, encoder: tuple[Any, Any] | None, params: StyleFeatureParams
) -> str:
    """The slowest phase that runs on every row: it drives a caller's row progress."""
    if lm is not None and params.perplexity == "all":
        return "perplexity"
    if encoder is not None and params.relatedness == "all":
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
    lm: PerplexityLM | None,
    store: Any,
    ids: pd.Series,
    texts: tuple[Sequence[str], Sequence[Any]],
    rows: np.ndarray,
    progress: Progress | _Share,
) -> tuple[np.ndarray, list[bool | None], tuple[int, int]]:
    """Perplexity and truncation flags of ``rows`` (NaN / None elsewhere), and the pairs
    computed and reused."""
    values = np.full(len(ids), np.nan)
    flags: list[bool | None] = [None] * len(ids)
    if lm is None or not len(rows):
        return values, flags, (0, 0)
    instructions, responses = texts
    found = perplexity_for(
        ids.iloc[rows],
        lambda at: ([instructions[rows[i]] for i in at], [responses[rows[i]] for i in at]),
        lm,
        store,
        on_batch=progress.advance,
    )
    progress.done()
    values[rows] = found.perplexity
    for i, flag in zip(rows.tolist(), found.truncated.tolist(), strict=True):
        flags[i] = flag
    return values, flags, (found.computed, found.reused)


def _relatedness(
    encoder: tuple[Any, Any] | None,
    params: StyleFeatureParams,
    texts: tuple[Sequence[str], Sequence[Any]],
    rows: np.ndarray,
    progress: Progress | _Share,
) -> np.ndarray:
    """Instruction/response cosine of ``rows`` (NaN elsewhere)."""
    instructions, responses = texts
    values = np.full(len(responses), np.nan)
    if encoder is None or not len(rows):
        return values
    values[rows] = relatedness(
        *encoder,
        [instructions[i] for i in rows],
        [responses[i] for i in rows],
        batch_size=params.relatedness_batch_size,
        max_tokens=params.relatedness_max_tokens,
        batch_tokens=params.relatedness_batch_tokens,
        num_threads=params.num_threads,
        on_batch=progress.advance,
    )
    progress.done()
    return values
