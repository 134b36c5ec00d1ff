"""Tiny models for the selector tests: a tiny LM, a tiny encoder and tiny StyleRankers."""

import pytest

from scar_dagster.selectors import SelectorModels
from scar_dagster.selectors.base import ModelRef
from tests.tiny_models import tiny_perplexity_lm


def tiny_ranker(seed: int = 0):
    """``(model, tokenizer)``: a seeded tiny StyleRanker (random weights)."""
    import torch

    from scar_dagster.ranker.model.architecture import RankerConfig, build_tiny_ranker

    torch.manual_seed(seed)
    model, tokenizer = build_tiny_ranker(RankerConfig(hidden_dim=16, max_length=64))
    return model.eval(), tokenizer


@pytest.fixture(scope="session")
def tiny_models() -> SelectorModels:
    ranker, tokenizer = tiny_ranker(0)
    return SelectorModels(
        lm=tiny_perplexity_lm(),
        encoder=ModelRef("tiny-bert", lambda: (tokenizer, ranker.encoder)),
        fresh_ranker=ModelRef("tiny-ranker", lambda: tiny_ranker(1)),
        ranker_version="rv-tiny",
        ranker=ModelRef("rv-tiny", lambda: (ranker, tokenizer)),
    )
