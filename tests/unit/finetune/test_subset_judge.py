"""Pairwise judging: both orders asked, ties when they disagree, failures excluded with a
reason (never a loss), exact request counts, win rates with Wilson intervals."""

from __future__ import annotations

import math

import pytest

from scar_dagster.evaluation.accuracy import wilson_interval
from scar_dagster.evaluation.subset_judge import (
    JUDGE_FAILED,
    JUDGE_UNPARSEABLE,
    LOSS,
    TIE,
    TIE_IDENTICAL_ANSWERS,
    TIE_ORDERS_DISAGREE,
    WIN,
    judgements,
    pairwise_requests,
    parse_verdict,
)
from scar_dagster.evaluation.subset_winrate import answer_lengths, win_rate
from scar_dagster.llm.types import LLM_SERVER_ERROR, ChatResult


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("a", "a"),
        (" B.", "b"),
        ("(a)", "a"),
        ("Answer (b)", "b"),
        ("Better answer: a\nbecause it is shorter", "a"),
        ("The better answer is (b).", "b"),
        ("", None),
        ("both are fine", None),
        ("a or b", None),
        ("I choose answer c", None),
        (None, None),
    ],
)
def test_parse_verdict(text, verdict):
    assert parse_verdict(text) == verdict


def _ok(text: str) -> ChatResult:
    return ChatResult(content=text, finish_reason="stop")


def test_both_orders_are_asked_with_the_answers_swapped():
    requests = pairwise_requests(["Q1", "Q2"], ["x1", "same"], ["y1", "same"], max_tokens=4)
    assert len(requests) == 2  # identical answers are not asked
    first, second = (r.messages[-1]["content"] for r in requests)
    assert first.index("x1") < first.index("y1") and second.index("y1") < second.index("x1")
    assert {r.max_tokens for r in requests} == {4}


def test_outcomes_of_every_reply_combination():
    x = ["x1", "x2", "x3", "x4", "x5", "same"]
    y = ["y1", "y2", "y3", "y4", "y5", "same"]
    failed = ChatResult(error=LLM_SERVER_ERROR, detail="500")
    replies = [
        _ok("a"), _ok("b"),  # X shown first wins, then X shown second wins: win
        _ok("b"), _ok("a"),  # Y both times: loss
        _ok("a"), _ok("a"),  # always the first shown: position bias, tie
        _ok("a"), failed,  # one order failed: excluded
        _ok("a"), _ok("maybe"),  # one order names neither: excluded
    ]  # fmt: skip
    judged = judgements(x, y, replies)
    assert [(j.outcome, j.reason) for j in judged] == [
        (WIN, None),
        (LOSS, None),
        (TIE, TIE_ORDERS_DISAGREE),
        (None, JUDGE_FAILED),
        (None, JUDGE_UNPARSEABLE),
        (TIE, TIE_IDENTICAL_ANSWERS),
    ]
    rate = win_rate(judged, x, y)
    assert (rate.wins, rate.losses, rate.ties, rate.n) == (1, 1, 2, 4)
    assert rate.excluded == {JUDGE_FAILED: 1, JUDGE_UNPARSEABLE: 1}  # not losses
    assert rate.ties_by_reason == {TIE_IDENTICAL_ANSWERS: 1, TIE_ORDERS_DISAGREE: 1}
    assert rate.win_rate == 0.5 and rate.interval == wilson_interval(2, 4)
    with pytest.raises(ValueError, match="more judge replies"):
        judgements(x[:1], y[:1], replies[:4])


def test_win_rate_interval_and_length_bias():
    x = ["a long answer here"] * 8 + ["short"] * 2
    y = ["short"] * 8 + ["a long answer here"] * 2
    judged = judgements(x, y, [_ok("a"), _ok("b")] * 10)  # X wins all ten
    rate = win_rate(judged, x, y)
    assert (rate.wins, rate.n, rate.win_rate) == (10, 10, 1.0)
    low, high = rate.interval
    assert (low, high) == pytest.approx(wilson_interval(10, 10)) and 0.69 < low < 0.73
    assert rate.longer_won == 8 and rate.longer_won_share == 0.8
    summary = rate.to_dict()
    assert summary["ci95_low"] == low and summary["excluded_total"] == 0
    empty = win_rate([], [], [])
    assert math.isnan(empty.win_rate) and empty.interval == (0.0, 1.0)


def test_answer_lengths():
    assert answer_lengths(["one two", "three", "four five six"], [False, True, False]) == {
        "mean_words": 2.0,
        "median_words": 2.0,
        "capped_share": pytest.approx(1 / 3),
    }
