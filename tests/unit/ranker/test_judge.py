"""Quality judges: every heuristic rule fires on its case; the LM judge reads digit logits."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scar_dagster.ranker.judge import (
    HeuristicJudge,
    LMJudge,
    QualityJudge,
    expected_digit,
    first_digit,
    judge_agreement,
    score_many,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

CALIBRATION = Path(__file__).resolve().parents[3] / "data" / "ranker" / "judge_calibration.jsonl"
Q = "How do I boil an egg so the yolk stays soft?"
GOOD = "Boil the egg for six minutes, then cool it in cold water so the yolk stays soft."

RULE_CASES = [
    ("empty", Q, "   "),
    ("too_short", Q, "boil egg"),
    (
        "too_long",
        Q,
        "Boil the egg until the yolk is soft: " + " ".join(f"w{i}" for i in range(650)),
    ),
    ("repetition", Q, "Boil the egg. Boil the egg. Boil the egg. Boil the egg. Boil the egg."),
    ("non_english", Q, "Варите яйцо шесть минут, затем охладите его в холодной воде."),
    ("refusal", Q, "I'm sorry, but as an AI I cannot help you boil an egg."),
    ("truncated", Q, "Boil the egg for six minutes and then put it in the"),
    ("truncated", Q, "Boil it like this:\n\n```python\nboil(egg, minutes=6)"),
    ("off_topic", Q, "The stock market closed higher on Tuesday after strong bank earnings."),
]


def _calibration() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rows = [json.loads(line) for line in CALIBRATION.read_text().splitlines()]
    good = [(r["instruction"], r["response"]) for r in rows if r["label"] == "good"]
    broken = [(r["instruction"], r["response"]) for r in rows if r["label"] == "broken"]
    return good, broken


def test_good_answer_gets_full_marks_and_no_rule_fires():
    explained = HeuristicJudge().explain(Q, GOOD)
    assert explained["score"] == 9.0
    assert not any(explained["penalties"].values())


@pytest.mark.parametrize(("rule", "instruction", "response"), RULE_CASES)
def test_each_rule_fires_on_its_case(rule, instruction, response):
    judge = HeuristicJudge()
    explained = judge.explain(instruction, response)
    assert explained["penalties"][rule] > 0
    assert 0.0 <= judge.score(instruction, response) < judge.score(Q, GOOD)


@pytest.mark.parametrize(
    ("rule", "disable"),
    [
        ("too_short", {"min_words": None}),
        ("repetition", {"max_repetition": None}),
        ("non_english", {"min_ascii_share": None}),
        ("refusal", {"refusal": False}),
        ("off_topic", {"min_overlap": None}),
    ],
)
def test_a_disabled_rule_never_fires(rule, disable):
    response = next(r for name, _, r in RULE_CASES if name == rule)
    assert HeuristicJudge(**disable).explain(Q, response)["penalties"][rule] == 0


def test_severe_flaws_fall_to_the_quality_threshold_mild_ones_stay_above():
    judge = HeuristicJudge()
    scores = {name: judge.score(q, r) for name, q, r in RULE_CASES}
    for severe in ("empty", "repetition", "non_english", "refusal"):
        assert scores[severe] <= 5, severe
    for mild in ("truncated", "off_topic", "too_short", "too_long"):
        assert scores[mild] > 5, mild


def test_terse_human_answer_without_final_period_is_not_truncated():
    answer = "hot water and a brush, no soap afaik. dry it on the stove and rub oil in after"
    assert (
        HeuristicJudge().explain("best way to clean a cast iron pan?", answer)["penalties"][
            "truncated"
        ]
        == 0
    )


def test_heuristic_judge_separates_the_calibration_set():
    good, broken = _calibration()
    assert len(good) == len(broken) == 10
    result = judge_agreement(HeuristicJudge(), good, broken)
    assert result["pairwise_accuracy"] == 1.0
    assert result["mean_good"] - result["mean_broken"] >= 4
    assert result["unrated"] == 0


def test_judges_satisfy_the_protocol():
    assert isinstance(HeuristicJudge(), QualityJudge)
    assert score_many(HeuristicJudge(), [Q, Q], [GOOD, ""]) == [9.0, 0.0]


def test_expected_digit_is_a_rating_in_range():
    import torch

    torch.manual_seed(0)
    digit_ids = list(range(10, 20))
    for _ in range(20):
        value = expected_digit(torch.randn(50) * 5, digit_ids)
        assert 0.0 <= value <= 9.0
    sharp = torch.zeros(50)
    sharp[17] = 50.0
    assert expected_digit(sharp, digit_ids) == pytest.approx(7.0)


def test_first_digit_parses_generated_text():
    assert first_digit("Rating: 7/9") == 7.0
    assert first_digit("I would say eight") is None


@pytest.fixture(scope="module")
def tiny_lm():
    """Random 2-layer Llama with the MiniLM WordPiece tokenizer (digits are single tokens)."""
    from tests.tiny_models import tiny_llama

    return tiny_llama(eos_is_sep=True)


def test_lm_judge_rates_in_range_and_batching_does_not_change_ratings(tiny_lm):
    pairs = [(Q, GOOD), (Q, ""), ("What is 2 + 2?", "4"), (Q, GOOD * 3)]
    one = LMJudge(*tiny_lm, batch_size=1)
    many = LMJudge(*tiny_lm, batch_size=4)
    ratings = [one.score(q, r) for q, r in pairs]
    assert all(r is not None and 0.0 <= r <= 9.0 for r in ratings)
    batched = many.score_batch([q for q, _ in pairs], [r for _, r in pairs])
    assert batched == pytest.approx(ratings, abs=1e-4)
    assert tiny_lm[0].padding_side == "right"  # restored


def test_lm_judge_is_unrated_when_digits_are_not_single_tokens(tiny_lm, monkeypatch):
    tokenizer, model = tiny_lm
    judge = LMJudge(tokenizer, model)
    monkeypatch.setattr(judge, "digit_ids", None)
    assert judge.score(Q, GOOD) is None
