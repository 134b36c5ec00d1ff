"""``distilled``: a StyleRanker taught the instruct LM's perplexity, then scoring every pair.

A seeded sample of the pool (default 2,000 pairs) is scored by the LM (perplexity of the
response given the instruction, through the shared perplexity store: the style features' values
are read from it, the others computed and kept); the sample is
shuffled (seeded) into ``pairs_per_row`` x sample pairs of pairs, each ordered lower perplexity
first, and a fresh StyleRanker (the encoder given, the paper's head) learns them with SCAR's
margin ranking loss (margin 0.5, AdamW, linear decay, clip 1.0). It then scores every pair of
the pool: perplexity's signal at the ranker's cost per pair, with no LM pass outside the sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from scar_dagster.selectors.base import (
    FEATURES,
    TEXTS,
    ModelRef,
    Selector,
    SelectorPool,
    floor_missing,
)
from scar_dagster.selectors.perplexity import pool_perplexity, valid_rows
from scar_dagster.style.surprisal_cache import PerplexityLM


@dataclass(frozen=True)
class DistillParams:
    """How the distilled ranker learns (defaults: the paper's optimiser, one pass)."""

    sample_size: int = 2000
    pairs_per_row: int = 1
    epochs: int = 1
    batch_size: int = 8
    lr: float = 2e-5
    margin: float = 0.5
    grad_clip: float = 1.0
    seed: int = 0
    max_length: int = 256

    def __post_init__(self) -> None:
        for name in ("sample_size", "pairs_per_row", "epochs", "batch_size", "max_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"distilled: {name} must be an int >= 1, got {value!r}")


def perplexity_pairs(ppl: np.ndarray, rows: np.ndarray, per_row: int, seed: int) -> np.ndarray:
    """``[k, 2]`` pool rows (better, worse): each of ``rows`` against ``per_row`` seeded
    partners, lower perplexity first; pairs of equal perplexity are left out."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(per_row):
        partners = rows[rng.permutation(len(rows))]
        for a, b in zip(rows.tolist(), partners.tolist(), strict=True):
            if a != b and ppl[a] != ppl[b]:
                out.append((a, b) if ppl[a] < ppl[b] else (b, a))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def train_on_pairs(
    model: Any,
    tokenizer: Any,
    texts: tuple[Sequence[str], Sequence[str]],
    pairs: np.ndarray,
    params: DistillParams,
) -> Any:
    """Train ``model`` in place so that ``score(pairs[:, 0]) > score(pairs[:, 1])``."""
    import torch

    from scar_dagster.ranker.model.losses import ranking_loss
    from scar_dagster.ranker.model.train import optimizer_step
    from scar_dagster.torch_env import seed_everything

    seed_everything(params.seed)
    instructions, responses = texts
    length = min(params.max_length, int(model.max_length))
    steps = max(1, params.epochs * -(-len(pairs) // params.batch_size))
    optimizer = torch.optim.AdamW(model.parameters(), lr=params.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / steps))
    order = torch.Generator().manual_seed(params.seed)

    def score(rows: list[int]) -> Any:
        def encode(batch: list[str]) -> Any:
            return tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=length,
                return_tensors="pt",
            )

        x, y = encode([instructions[r] for r in rows]), encode([responses[r] for r in rows])
        return model(x["input_ids"], x["attention_mask"], y["input_ids"], y["attention_mask"])[0]

    model.train()
    for _ in range(params.epochs):
        permutation = torch.randperm(len(pairs), generator=order).tolist()
        for start in range(0, len(permutation), params.batch_size):
            batch = pairs[permutation[start : start + params.batch_size]]
            better, worse = score(batch[:, 0].tolist()), score(batch[:, 1].tolist())
            mask = torch.ones(len(batch), dtype=torch.bool)
            loss = ranking_loss(better.float(), worse.float(), mask, params.margin)
            optimizer_step(loss, model, optimizer, scheduler, params.grad_clip)
    return model.eval()


class DistilledSelector(Selector):
    """A StyleRanker trained on perplexity-ordered pairs of a pool sample scores the pool."""

    name: ClassVar[str] = "distilled"
    reads: ClassVar[frozenset[str]] = frozenset({FEATURES, TEXTS})
    pool_dependent: ClassVar[bool] = True  # the sample is drawn from the pool

    def __init__(
        self,
        lm: PerplexityLM,
        ranker: ModelRef,
        params: DistillParams | None = None,
        *,
        store: Any = None,
    ) -> None:
        """``ranker.load()`` builds a fresh, untrained ``(model, tokenizer)`` StyleRanker;
        ``store`` caches the teacher's perplexities (a SQLAlchemy engine; None: none)."""
        self.lm, self.ranker, self.store = lm, ranker, store
        self.params = params or DistillParams()
        self.training: dict[str, Any] = {}
        self.trained: tuple[Any, Any] | None = None  # (model, tokenizer) of the last pool

    def options(self) -> dict[str, Any]:
        return {
            "lm_version": self.lm.version,
            "ranker": self.ranker.label,
            **asdict(self.params),
        }

    def scores(self, pool: SelectorPool, budget: int) -> np.ndarray:
        rng = np.random.default_rng(self.params.seed)
        valid = np.flatnonzero(valid_rows(pool))
        sample = np.sort(rng.permutation(valid)[: self.params.sample_size])
        sampled = pool.take(sample)
        ppl = np.full(len(pool), np.nan)
        ppl[sample] = pool_perplexity(sampled, self.lm, self.store)
        known = sample[np.isfinite(ppl[sample])]
        pairs = perplexity_pairs(ppl, known, self.params.pairs_per_row, self.params.seed)
        if len(pairs) == 0:
            raise ValueError("distilled: the sample gives no pair of distinct perplexities")
        model, tokenizer = self.ranker.load()
        train_on_pairs(model, tokenizer, pool.texts(), pairs, self.params)
        self.training = {"sample": len(sample), "pairs": len(pairs)}
        self.trained = (model, tokenizer)
        return floor_missing(self._score(*pool.texts()))

    def text_scores(
        self, instructions: Sequence[str], responses: Sequence[str]
    ) -> np.ndarray | None:
        """The ranker trained on the last pool scores any pairs (None before one was scored)."""
        return None if self.trained is None else self._score(instructions, responses)

    def _score(self, instructions: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        from scar_dagster.ranker.inference.scoring import score_pairs

        assert self.trained is not None
        model, tokenizer = self.trained
        length = min(self.params.max_length, int(model.max_length))
        values = score_pairs(
            model, tokenizer, list(instructions), list(responses), max_length=length
        )
        return np.asarray(values, dtype=np.float64)
