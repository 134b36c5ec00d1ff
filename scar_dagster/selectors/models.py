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
) -> SelectorModels:
    """Models from local folders: the instruct LM, the encoder, a ranker checkpoint (ours or
    SCAR-published) and Superfiltering's proxy LM (None: the instruct LM)."""
    from scar_dagster.base_models import load_causal_lm, load_encoder

    return SelectorModels(
        lm=lazy(lm, lambda: load_causal_lm(lm, device=device, dtype=dtype)),
        encoder=lazy(encoder, lambda: load_encoder(encoder, device=device, dtype=dtype)),
        fresh_ranker=fresh_ranker(encoder),
        ranker_version=ranker_version,
        ranker=ModelRef(str(ranker), lambda: ranker_of(str(ranker))[:2]) if ranker else None,
        proxy_lm=(
            lazy(proxy_lm, lambda: load_causal_lm(proxy_lm, device=device, dtype=dtype))
            if proxy_lm
            else None
        ),
    )


@cache
def ranker_of(path: str) -> tuple[Any, Any, dict[str, Any]]:
    """``(model, tokenizer, info)`` of a ranker folder (ours or SCAR-published), loaded once;
    ``info["version"]`` is its version."""
    from scar_dagster.ranker.model.published import load_ranker

    return load_ranker(path)
