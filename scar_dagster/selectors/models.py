"""``SelectorModels`` from model folders (the command line, benchmarks) or from loaders (the
Dagster resources): every model is loaded once, when a selector first needs it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from scar_dagster.selectors.base import ModelRef
from scar_dagster.selectors.registry import SelectorModels


def lazy(label: str, load: Callable[[], Any]) -> ModelRef:
    """A ``ModelRef`` whose ``load`` runs once."""
    return ModelRef(label, cache(load))


def fresh_ranker(encoder: str, *, max_length: int = 256, seed: int = 0) -> ModelRef:
    """Builds an untrained StyleRanker on ``encoder`` (seeded head) at every ``load``."""

    def build() -> tuple[Any, Any]:
        from scar_dagster.ranker.model.architecture import RankerConfig, build_ranker
        from scar_dagster.torch_env import seed_everything

        seed_everything(seed)
        return build_ranker(RankerConfig(encoder=encoder, max_length=max_length))

    return ModelRef(f"style-ranker({encoder}, seed {seed})", build)


def models_from_paths(
    *,
    lm: str,
    encoder: str,
    ranker: str | None = None,
    ranker_version: str | None = None,
    proxy_lm: str | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    max_tokens: int = 512,
) -> SelectorModels:
    """Models from local folders: the instruct LM, the encoder, a ranker checkpoint (ours or
    SCAR-published) and Superfiltering's proxy LM (None: the instruct LM); the LMs see at most
    ``max_tokens`` tokens per pair (part of their perplexity version)."""
    from scar_dagster.base_models import load_encoder
    from scar_dagster.style.surprisal_cache import PerplexityLM

    def perplexity_lm(folder: str) -> PerplexityLM:
        return PerplexityLM.from_folder(folder, device=device, dtype=dtype, max_tokens=max_tokens)

    return SelectorModels(
        lm=perplexity_lm(lm),
        encoder=lazy(encoder, lambda: load_encoder(encoder, device=device, dtype=dtype)),
        fresh_ranker=fresh_ranker(encoder),
        ranker_version=ranker_version,
        ranker=ModelRef(str(ranker), lambda: ranker_of(str(ranker))[:2]) if ranker else None,
        proxy_lm=perplexity_lm(proxy_lm) if proxy_lm else None,
    )


@cache
def ranker_of(path: str) -> tuple[Any, Any, dict[str, Any]]:
    """``(model, tokenizer, info)`` of a ranker folder (ours or SCAR-published), loaded once;
    ``info["version"]`` is its version."""
    from scar_dagster.ranker.model.published import load_ranker

    return load_ranker(path)
