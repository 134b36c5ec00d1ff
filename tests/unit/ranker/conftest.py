"""Ranker test fixtures: a tiny random BERT ranker with the real MiniLM tokenizer."""

from __future__ import annotations

import pytest


@pytest.fixture
def tiny_ranker():
    """``(model, tokenizer)``: a seeded 1-layer BERT (hidden 32) with a random head, eval mode."""
    import torch

    from scar_dagster.ranker.model.architecture import RankerConfig, build_tiny_ranker

    torch.manual_seed(0)
    model, tokenizer = build_tiny_ranker(RankerConfig(hidden_dim=16, max_length=64))
    return model.eval(), tokenizer
