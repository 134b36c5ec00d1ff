"""Training as the SCAR toolkit's trainer: a zero-loss batch makes no optimizer or scheduler
step, and the constraint mode decides which batches have anything to learn."""

from __future__ import annotations

import pytest
import torch

from scar_dagster.ranker.data.quadruple import Quadruple
from scar_dagster.ranker.model.architecture import RankerConfig, build_tiny_ranker
from scar_dagster.ranker.model.train import (
    TrainParams,
    optimizer_step,
    seed_everything,
    train_ranker,
)
from tests.planted import quadruple_rows

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _optimizer(model: torch.nn.Module):
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)  # weight decay 0.01
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (step + 1))
    return optimizer, scheduler


def test_a_zero_or_missing_loss_makes_no_step_a_real_one_does():
    model = torch.nn.Linear(3, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer, scheduler = _optimizer(model)
    zero = (model.weight * 0).sum()  # a graph tensor equal to 0, as when every margin is met
    assert optimizer_step(zero, model, optimizer, scheduler, 1.0) is False
    assert optimizer_step(None, model, optimizer, scheduler, 1.0) is False
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name  # AdamW's decay would have moved them
    assert scheduler.last_epoch == 0 and not optimizer.state
    loss = model(torch.ones(1, 3)).sum() ** 2 + 1.0
    assert optimizer_step(loss, model, optimizer, scheduler, 1.0) is True
    assert scheduler.last_epoch == 1
    assert not torch.equal(model.weight, before["weight"])


def _low_quality(n: int = 10) -> list[Quadruple]:
    """Quadruples whose human and referenced answers score 2 and 3: the paper's rule (both > 5)
    allows none of their pairs."""
    return [
        Quadruple(**{**row, "quality_human": 2, "quality_referenced": 3})
        for row in quadruple_rows(n)
    ]


def _train(records, **params):
    seed_everything(0)
    model, tokenizer = build_tiny_ranker(RankerConfig(hidden_dim=16, max_length=48))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    result = train_ranker(
        model,
        tokenizer,
        records,
        TrainParams(epochs=1, batch_size=4, lr=1e-3, **params),
        log=lambda _: None,
    )
    moved = any(not torch.equal(v, start[k]) for k, v in result.model.state_dict().items())
    return result, moved


def test_batches_the_constraint_leaves_empty_make_no_step_and_none_trains_them():
    result, moved = _train(_low_quality(), quality_threshold=5.0)  # no pair is allowed
    (epoch,) = result.metrics["history"]
    assert (epoch["steps"], epoch["skipped_batches"]) == (0, 2) and not moved
    assert set(result.metrics["excluded_pairs"].values()) == {10}
    result, moved = _train(_low_quality(), constraint_mode="none")
    (epoch,) = result.metrics["history"]
    assert (epoch["steps"], epoch["skipped_batches"]) == (2, 0) and moved
    assert set(result.metrics["excluded_pairs"].values()) == {0}
    assert result.metrics["params"]["constraint_mode"] == "none"
