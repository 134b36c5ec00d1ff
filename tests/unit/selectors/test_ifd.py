"""IFD = perplexity of the response given the instruction / perplexity of the response alone,
as a direct computation with a tiny LM gives it; its selection scores rank IFD >= 1 last."""

import math

import numpy as np
import pytest

from scar_dagster.selectors.base import ModelRef, SelectorPool
from scar_dagster.selectors.ifd import IFDSelector, SuperfilteringSelector, ifd_scores, ifd_values
from tests.tiny_models import tiny_llama

PAIRS = [
    ("Name a colour.", "Blue is a colour of the sky."),
    ("Say hello.", "Hello there, how are you today?"),
    ("Count to three.", "one two three"),
]


@pytest.fixture(scope="module")
def lm():
    return tiny_llama()


def _direct_perplexity(tokenizer, model, prompt_ids: list[int], response: str) -> float:
    """exp(mean NLL) of the response tokens after ``prompt_ids``, from one plain forward."""
    import torch

    answer = tokenizer(response, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + answer])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].double()
    start = max(len(prompt_ids), 1)
    logp = torch.log_softmax(logits[start - 1 : -1], dim=-1)
    nll = -logp[torch.arange(len(ids[0]) - start), ids[0, start:]]
    return math.exp(float(nll.mean()))


def _pool(pairs) -> SelectorPool:
    return SelectorPool(
        ids=[f"p{i}" for i in range(len(pairs))],
        sources=["s"] * len(pairs),
        instructions=[x for x, _ in pairs],
        responses=[y for _, y in pairs],
    )


def test_ifd_equals_the_direct_ratio_of_perplexities(lm):
    tokenizer, model = lm
    ref = ModelRef("tiny", lambda: lm)
    got = ifd_values(_pool(PAIRS), ref, reuse_features=False, max_tokens=512)
    for (instruction, response), value in zip(PAIRS, got, strict=True):
        chat = tokenizer.apply_chat_template(
            [{"role": "user", "content": instruction}], add_generation_prompt=True, tokenize=False
        )
        prompt = tokenizer(chat, add_special_tokens=False)["input_ids"]
        given = _direct_perplexity(tokenizer, model, prompt, response)
        alone = _direct_perplexity(tokenizer, model, [], response)  # no BOS token: none
        assert value == pytest.approx(given / alone, rel=1e-4)


def test_ifd_reuses_the_pools_perplexity_and_superfiltering_does_not(lm):
    import pandas as pd

    ref = ModelRef("tiny", lambda: lm)
    pool = _pool(PAIRS)
    fresh = ifd_values(pool, ref, reuse_features=False, max_tokens=512)
    planted = SelectorPool(**{**pool.__dict__, "features": pd.DataFrame({"perplexity": [1.0] * 3})})
    reused = IFDSelector(ref).scores(planted, 3)
    proxy = SuperfilteringSelector(ref).scores(planted, 3)
    assert not np.allclose(reused, proxy)
    assert proxy == pytest.approx(ifd_scores(fresh))


def test_ifd_of_one_or_more_ranks_below_every_ifd_under_one():
    scores = ifd_scores(np.array([0.2, 0.9, 1.0, 1.7, np.nan]))
    assert list(np.argsort(-scores)) == [1, 0, 2, 3, 4]
    assert np.isfinite(scores).all()
