"""score_pairs: batch-size invariant, input order, empty and generator inputs, no leaked state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scar_dagster.batching import plan_batches
from scar_dagster.ranker.inference.scoring import iter_scores, score_pairs

# 15 pairs, 14 distinct instructions + 15 responses = 29 distinct texts: batch_size 7 leaves a
# one-item last batch.
INSTRUCTIONS = [f"Question {i}: how does item {i} work?" for i in range(14)] + [
    "Question 0: how does item 0 work?"
]
RESPONSES = [("word " * (1 + 3 * i)).strip() + ("\n- bullet" if i % 2 else ".") for i in range(15)]


def _forward_scores(model, tokenizer, xs, ys) -> np.ndarray:
    """The reference path: one padded batch per pair through ``StyleRanker.forward``."""
    out = []
    with torch.no_grad():
        for x, y in zip(xs, ys, strict=True):
            bx = tokenizer([x], return_tensors="pt", truncation=True, max_length=64)
            by = tokenizer([y], return_tensors="pt", truncation=True, max_length=64)
            out.append(
                float(model(bx.input_ids, bx.attention_mask, by.input_ids, by.attention_mask)[0])
            )
    return np.array(out)


def test_plan_batches_respects_count_and_token_budget():
    lengths = [5, 50, 3, 50, 20, 1]
    batches = plan_batches(lengths, batch_size=2, max_tokens=100)
    assert batches == [[1, 3], [4, 0], [2, 5]]
    assert plan_batches(lengths, batch_size=8, max_tokens=60) == [[1], [3], [4, 0, 2], [5]]
    assert plan_batches([700], batch_size=4, max_tokens=10) == [[0]]
    assert plan_batches([], batch_size=4, max_tokens=10) == []


def test_matches_forward_and_is_batch_size_invariant(tiny_ranker):
    model, tokenizer = tiny_ranker
    expected = _forward_scores(model, tokenizer, INSTRUCTIONS, RESPONSES)
    results = {
        bs: score_pairs(model, tokenizer, INSTRUCTIONS, RESPONSES, batch_size=bs)
        for bs in (1, 7, 64)
    }
    for scores in results.values():
        assert scores.dtype == np.float32 and scores.shape == (15,)
        np.testing.assert_allclose(scores, expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(results[1], results[64], atol=1e-5, rtol=0)
    tiny_budget = score_pairs(model, tokenizer, INSTRUCTIONS, RESPONSES, max_tokens=16)
    np.testing.assert_allclose(tiny_budget, expected, atol=1e-5, rtol=0)


def test_deterministic_and_thread_count_invariant(tiny_ranker):
    model, tokenizer = tiny_ranker
    first = score_pairs(model, tokenizer, INSTRUCTIONS, RESPONSES, batch_size=7)
    again = score_pairs(model, tokenizer, INSTRUCTIONS, RESPONSES, batch_size=7)
    one = score_pairs(model, tokenizer, INSTRUCTIONS, RESPONSES, batch_size=7, num_threads=1)
    three = score_pairs(model, tokenizer, INSTRUCTIONS, RESPONSES, batch_size=7, num_threads=3)
    assert np.array_equal(first, again) and np.array_equal(one, three)
    assert np.array_equal(first, one)


def test_results_follow_input_order(tiny_ranker):
    model, tokenizer = tiny_ranker
    scores = score_pairs(model, tokenizer, INSTRUCTIONS, RESPONSES, batch_size=4)
    perm = np.random.default_rng(0).permutation(15)
    permuted = score_pairs(
        model,
        tokenizer,
        [INSTRUCTIONS[i] for i in perm],
        [RESPONSES[i] for i in perm],
        batch_size=4,
    )
    np.testing.assert_allclose(permuted, scores[perm], atol=1e-5, rtol=0)


def test_empty_generator_and_chunked_inputs(tiny_ranker):
    model, tokenizer = tiny_ranker
    empty = score_pairs(model, tokenizer, [], [])
    assert empty.shape == (0,) and empty.dtype == np.float32
    assert list(iter_scores(model, tokenizer, iter(()), iter(()))) == []
    whole = score_pairs(model, tokenizer, INSTRUCTIONS, RESPONSES)
    from_generators = score_pairs(model, tokenizer, (x for x in INSTRUCTIONS), iter(RESPONSES))
    np.testing.assert_allclose(from_generators, whole, atol=1e-5, rtol=0)
    chunks = list(iter_scores(model, tokenizer, iter(INSTRUCTIONS), iter(RESPONSES), chunk_size=4))
    assert [len(c) for c in chunks] == [4, 4, 4, 3]
    np.testing.assert_allclose(np.concatenate(chunks), whole, atol=1e-5, rtol=0)


def test_state_is_restored_between_chunks(tiny_ranker):
    model, tokenizer = tiny_ranker
    model.train()
    threads = torch.get_num_threads()
    for _ in iter_scores(model, tokenizer, INSTRUCTIONS, RESPONSES, chunk_size=5, num_threads=2):
        assert not torch.is_inference_mode_enabled()
        assert model.training
        assert torch.get_num_threads() == threads


def test_length_mismatch_and_bad_arguments(tiny_ranker):
    model, tokenizer = tiny_ranker
    with pytest.raises(ValueError):
        score_pairs(model, tokenizer, ["a", "b"], ["c"])
    with pytest.raises(ValueError, match="batch_size"):
        score_pairs(model, tokenizer, ["a"], ["b"], batch_size=0)


def test_truncation_at_max_length(tiny_ranker):
    model, tokenizer = tiny_ranker
    long = "word " * 200
    a = score_pairs(model, tokenizer, ["q"], [long], max_length=16)
    b = score_pairs(model, tokenizer, ["q"], [long + " extra tail words"], max_length=16)
    assert np.array_equal(a, b)


def test_real_minilm_ranker_matches_the_reference_path():
    from scar_dagster.ranker.model.architecture import RankerConfig, build_ranker

    torch.manual_seed(0)
    model, tokenizer = build_ranker(RankerConfig(max_length=64))
    model.eval()
    xs, ys = INSTRUCTIONS[:6], RESPONSES[:6]
    expected = _forward_scores(model, tokenizer, xs, ys)
    np.testing.assert_allclose(
        score_pairs(model, tokenizer, xs, ys, batch_size=4), expected, atol=1e-5, rtol=0
    )
