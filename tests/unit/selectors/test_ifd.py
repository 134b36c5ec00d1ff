"""IFD = perplexity of the response given the instruction / perplexity of the response alone,
as a direct computation with a tiny LM gives it, both read through the perplexity store; its
selection scores rank IFD >= 1 last."""

import math

import numpy as np
import pytest

from scar_dagster.selectors.base import SelectorPool
from scar_dagster.selectors.ifd import IFDSelector, SuperfilteringSelector, ifd_scores, ifd_values
from scar_dagster.selectors.perplexity import PerplexitySelector
from scar_dagster.selectors.run import score_and_store
from scar_dagster.storage import tables
from scar_dagster.style.surprisal import CONDITIONAL, RESPONSE_ONLY
from tests.tiny_models import tiny_perplexity_lm

PAIRS = [
    ("Name a colour.", "Blue is a colour of the sky."),
    ("Say hello.", "Hello there, how are you today?"),
    ("Count to three.", "one two three"),
]


@pytest.fixture(scope="module")
def lm():
    return tiny_perplexity_lm()


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


def test_ifd_equals_the_direct_ratio_of_perplexities(lm, engine):
    tokenizer, model = lm.model()
    got = ifd_values(_pool(PAIRS), lm, engine)
    stored = {
        kind: tables.read_surprisal(engine, lm.version, kind, ["p0", "p1", "p2"])
        for kind in (CONDITIONAL, RESPONSE_ONLY)
    }
    for i, ((instruction, response), value) in enumerate(zip(PAIRS, got, strict=True)):
        chat = tokenizer.apply_chat_template(
            [{"role": "user", "content": instruction}], add_generation_prompt=True, tokenize=False
        )
        prompt = tokenizer(chat, add_special_tokens=False)["input_ids"]
        given = _direct_perplexity(tokenizer, model, prompt, response)
        alone = _direct_perplexity(tokenizer, model, [], response)  # no BOS token: none
        assert value == pytest.approx(given / alone, rel=1e-4)
        by_id = {k: f.set_index("id")["perplexity"] for k, f in stored.items()}
        assert by_id[RESPONSE_ONLY][f"p{i}"] == pytest.approx(alone, rel=1e-4)
        assert by_id[CONDITIONAL][f"p{i}"] == pytest.approx(given, rel=1e-4)


def test_a_second_ifd_selection_reads_every_perplexity_from_the_store(lm, engine, tmp_path):
    pool = _pool(PAIRS)
    first = score_and_store(IFDSelector(lm, store=engine), pool, 2, engine)
    assert first.computed == 3
    before = lm.batches
    # a new selection database (no stored selector scores), the same perplexity store
    other = tables.create_engine_for(f"sqlite:///{tmp_path}/other.db")
    tables.ensure_schema(other)
    second = score_and_store(IFDSelector(lm, store=engine), pool, 2, other)
    assert second.computed == 3  # every IFD score computed again ...
    assert lm.batches == before  # ... from stored perplexities only: no LM forward pass
    again = tables.read_selector_scores(other, second.scored_by.version).set_index("id")
    once = tables.read_selector_scores(engine, first.scored_by.version).set_index("id")
    np.testing.assert_array_equal(
        again.loc[list(pool.ids), "score"], once.loc[list(pool.ids), "score"]
    )
    # the perplexity selector reads the conditional values IFD stored
    PerplexitySelector(lm, store=engine).scores(pool, 2)
    assert lm.batches == before
    other.dispose()


def test_the_proxy_lm_keeps_its_own_values_and_no_proxy_shares_the_instruct_lms(lm, engine):
    pool = _pool(PAIRS)
    proxy = tiny_perplexity_lm(identity="tiny-proxy", favoured=("colour",), bias=3.0)
    assert proxy.version != lm.version
    instruct = IFDSelector(lm, store=engine).scores(pool, 3)
    mine = SuperfilteringSelector(proxy, store=engine, proxy="given").scores(pool, 3)
    assert not np.allclose(instruct, mine)
    assert len(tables.read_surprisal(engine, proxy.version, CONDITIONAL, list(pool.ids))) == 3
    before = lm.batches
    shared = SuperfilteringSelector(lm, store=engine, proxy="none given").scores(pool, 3)
    assert lm.batches == before
    np.testing.assert_array_equal(shared, instruct)


def test_ifd_of_one_or_more_ranks_below_every_ifd_under_one():
    scores = ifd_scores(np.array([0.2, 0.9, 1.0, 1.7, np.nan]))
    assert list(np.argsort(-scores)) == [1, 0, 2, 3, 4]
    assert np.isfinite(scores).all()
