"""Perplexity and relatedness: equal to a direct computation, batch-size invariant, truncation."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from scar_dagster.style.surprisal import (
    RESPONSE_ONLY,
    build_perplexity_inputs,
    relatedness,
    response_perplexity,
)

PAIRS = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("Write a haiku about autumn.", "Leaves drift slowly down\nCrisp air whispers\nAutumn ends"),
    ("Explain recursion.", "Recursion is when a function calls itself on a smaller input."),
]


def varied_pairs(n: int = 15, seed: int = 3) -> tuple[list[str], list[str]]:
    words = ["the", "a", "model", "data", "style", "answer", "code", "list", "because", "long"]
    rng = random.Random(seed)

    def text(k: int) -> str:
        return " ".join(rng.choice(words) for _ in range(k)) + "."

    pairs = [(text(rng.randint(2, 20)), text(rng.randint(1, 40))) for _ in range(n)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def direct_perplexity(tokenizer, model, instruction: str, response: str) -> float:
    """The same conditional loss written plainly: one pair, full logits, HF's own shifted loss."""
    import torch

    messages = [{"role": "user", "content": instruction}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    input_ids = torch.tensor([prompt_ids + response_ids])
    labels = input_ids.clone()
    labels[0, : len(prompt_ids)] = -100
    with torch.no_grad():
        loss = model(input_ids=input_ids, labels=labels).loss
    return math.exp(loss.item())


def test_perplexity_equals_direct_computation(tiny_lm):
    tokenizer, model = tiny_lm
    instructions, responses = zip(*PAIRS, strict=True)
    ppl, truncated = response_perplexity(tokenizer, model, instructions, responses, batch_size=2)
    expected = [direct_perplexity(tokenizer, model, i, r) for i, r in PAIRS]
    np.testing.assert_allclose(ppl, expected, rtol=1e-5)
    assert ppl.dtype == np.float64 and not truncated.any()


@pytest.mark.parametrize("batch_size", [7, 64])
def test_perplexity_is_batch_size_invariant(tiny_lm, batch_size):
    instructions, responses = varied_pairs()
    one, cut_one = response_perplexity(*tiny_lm, instructions, responses, batch_size=1)
    many, cut_many = response_perplexity(*tiny_lm, instructions, responses, batch_size=batch_size)
    assert np.isfinite(one).all()
    np.testing.assert_allclose(many, one, rtol=1e-4)
    assert (cut_one == cut_many).all()


@pytest.mark.parametrize("batch_size", [7, 64])
def test_relatedness_is_batch_size_invariant(encoder, batch_size):
    instructions, responses = varied_pairs()
    one = relatedness(*encoder, instructions, responses, batch_size=1)
    many = relatedness(*encoder, instructions, responses, batch_size=batch_size)
    np.testing.assert_allclose(many, one, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("batch_tokens", [1, 40, 10_000])
def test_token_budget_batches_give_the_unbatched_values(tiny_lm, encoder, batch_tokens):
    """Length-sorted batches packed by a padded-token budget (one pair, a few, all at once)
    give the values of one pair at a time."""
    instructions, responses = varied_pairs()
    one, _ = response_perplexity(*tiny_lm, instructions, responses, batch_size=1)
    packed, _ = response_perplexity(
        *tiny_lm, instructions, responses, batch_size=64, batch_tokens=batch_tokens
    )
    np.testing.assert_allclose(packed, one, rtol=1e-4)
    alone = relatedness(*encoder, instructions, responses, batch_size=1)
    related = relatedness(
        *encoder, instructions, responses, batch_size=64, batch_tokens=batch_tokens
    )
    np.testing.assert_allclose(related, alone, rtol=1e-4, atol=1e-6)


def direct_response_only(tokenizer, model, response: str) -> float:
    """Perplexity of the response alone written plainly (as IFD's denominator): no prompt, the
    first token unscored when the tokenizer adds no BOS."""
    import torch

    ids = torch.tensor([tokenizer(response, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        return math.exp(model(input_ids=ids, labels=ids).loss.item())


def test_response_only_perplexity_equals_direct_computation(tiny_lm):
    tokenizer, model = tiny_lm
    instructions, responses = zip(*PAIRS, strict=True)
    alone, cut = response_perplexity(
        tokenizer, model, instructions, responses, kind=RESPONSE_ONLY, batch_size=2
    )
    expected = [direct_response_only(tokenizer, model, r) for r in responses]
    np.testing.assert_allclose(alone, expected, rtol=1e-5)
    given, _ = response_perplexity(tokenizer, model, instructions, responses)
    assert not np.allclose(alone, given) and not cut.any()
    seqs, prompts, truncated = build_perplexity_inputs(
        tokenizer, ["x"], [" ".join(["word"] * 300)], max_tokens=32, kind=RESPONSE_ONLY
    )
    assert len(seqs[0]) == 32 and prompts == [0] and truncated == [True]
    with pytest.raises(ValueError, match="kind must be one of"):
        build_perplexity_inputs(tokenizer, ["x"], ["y"], max_tokens=32, kind="other")


def test_relatedness_prefers_a_paraphrase(encoder):
    scores = relatedness(
        *encoder,
        ["How do I bake bread at home?", "How do I bake bread at home?"],
        ["Here are the steps to make a loaf of homemade bread.", "The stock market fell today."],
    )
    assert scores[0] > scores[1] + 0.3
    assert np.all(np.abs(scores) <= 1.0 + 1e-6)


def test_long_response_is_cut_from_its_tail(tiny_lm):
    tokenizer, _ = tiny_lm
    long_response = " ".join(["word"] * 300)
    seqs, prompt_lengths, truncated = build_perplexity_inputs(
        tokenizer, ["Say words."], [long_response], max_tokens=64
    )
    full_prompt, _, _ = build_perplexity_inputs(tokenizer, ["Say words."], [""], max_tokens=64)
    assert truncated == [True] and len(seqs[0]) == 64
    assert prompt_lengths[0] == len(full_prompt[0])  # the whole instruction is kept


def test_long_instruction_is_cut_but_keeps_template_and_half_the_budget(tiny_lm):
    tokenizer, model = tiny_lm
    long_instruction = " ".join(["please"] * 300)
    response = " ".join(["answer"] * 100)
    seqs, prompt_lengths, truncated = build_perplexity_inputs(
        tokenizer, [long_instruction], [response], max_tokens=80
    )
    assert truncated == [True] and len(seqs[0]) <= 80
    assert len(seqs[0]) - prompt_lengths[0] == 40  # the response keeps half the budget
    assistant = tokenizer("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    assert seqs[0][prompt_lengths[0] - len(assistant) : prompt_lengths[0]] == assistant
    ppl, cut = response_perplexity(tokenizer, model, [long_instruction], [response], max_tokens=80)
    assert np.isfinite(ppl).all() and cut.all()


def test_empty_inputs_and_empty_response(tiny_lm, encoder):
    ppl, cut = response_perplexity(*tiny_lm, [], [])
    assert ppl.shape == (0,) and cut.shape == (0,)
    ppl, _ = response_perplexity(*tiny_lm, ["Hi"], [""])
    assert math.isnan(ppl[0])
    assert relatedness(*encoder, [], []).shape == (0,)


def test_num_threads_is_restored(tiny_lm):
    import torch

    before = torch.get_num_threads()
    response_perplexity(*tiny_lm, ["Hi"], ["Hello there."], num_threads=1)
    assert torch.get_num_threads() == before
