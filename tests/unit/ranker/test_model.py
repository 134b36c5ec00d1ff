"""StyleRanker shapes, pooling and masking: padding never reaches a score."""

from __future__ import annotations

import json

import pytest
import torch

from scar_dagster.ranker.model.architecture import (
    RankerConfig,
    StyleRanker,
    build_tiny_ranker,
    masked_max_pool,
    masked_mean_pool,
)


def _inputs(tokenizer, texts, pad_to=None):
    kw = {"padding": "max_length", "max_length": pad_to} if pad_to else {"padding": True}
    batch = tokenizer(texts, return_tensors="pt", truncation=True, **kw)
    return batch["input_ids"], batch["attention_mask"]


def test_forward_shapes(tiny_ranker):
    model, tokenizer = tiny_ranker
    x = _inputs(tokenizer, ["Sort a list.", "Why is the sky blue?"])
    y = _inputs(tokenizer, ["Use sorted().", "- Rayleigh\n- scattering"])
    score, (v_c, v_p) = model(*x, *y)
    assert score.shape == (2,)
    assert v_c.shape == v_p.shape == (2, 32)
    assert model.relation_mlp[0].in_features == 64 and model.relation_mlp[0].out_features == 16
    assert model.score_mlp[-1].out_features == 1


@pytest.mark.parametrize("pooling", ["pooler", "cls", "mean"])
def test_extra_padding_changes_nothing(pooling):
    torch.manual_seed(0)
    model, tokenizer = build_tiny_ranker(
        RankerConfig(hidden_dim=16, max_length=64, pooling=pooling)
    )
    model.eval()
    xs, ys = ["Sort a list.", "Hi"], ["Use sorted() on the list.", "hello there, friend!"]
    with torch.no_grad():
        short = model(*_inputs(tokenizer, xs), *_inputs(tokenizer, ys))
        padded = model(*_inputs(tokenizer, xs, 40), *_inputs(tokenizer, ys, 48))
    torch.testing.assert_close(short[0], padded[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(short[1][1], padded[1][1], atol=1e-5, rtol=0)
    torch.testing.assert_close(short[1][0], padded[1][0], atol=1e-5, rtol=0)


def test_masked_max_pool_ignores_padding_even_when_larger():
    states = torch.tensor([[[1.0, -2.0], [3.0, -1.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert masked_max_pool(states, mask).tolist() == [[3.0, -1.0]]
    negative = torch.full((1, 3, 2), -5.0)
    negative[0, 2] = 0.0  # a padded zero must not beat real negatives
    assert masked_max_pool(negative, mask).tolist() == [[-5.0, -5.0]]
    assert masked_mean_pool(states, mask).tolist() == [[2.0, -1.5]]


def test_pooler_follows_reference_and_falls_back_to_cls(tiny_ranker):
    model, tokenizer = tiny_ranker
    ids, mask = _inputs(tokenizer, ["a b c"])
    out = model.encoder(input_ids=ids, attention_mask=mask)
    pooled, _ = model.encode(ids, mask)
    torch.testing.assert_close(pooled, out.pooler_output)
    model.pooling = "cls"
    pooled, _ = model.encode(ids, mask)
    torch.testing.assert_close(pooled, out.last_hidden_state[:, 0])


def test_config_json_round_trip_and_validation():
    config = RankerConfig(encoder="/models/x", hidden_dim=64, max_length=128, pooling="mean")
    assert RankerConfig.from_dict(json.loads(config.to_json())) == config
    with pytest.raises(ValueError, match="unknown"):
        RankerConfig.from_dict({"encoder": "x", "colour": "red"})
    with pytest.raises(ValueError, match="pooling"):
        RankerConfig(pooling="max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pooling"):
        StyleRanker(torch.nn.Module(), pooling="max")  # type: ignore[arg-type]
