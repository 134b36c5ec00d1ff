"""Quality judges: heuristic rules, the LM judge's digit logits, the chat judge's score parsing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scar_dagster.llm.types import ChatResult
from scar_dagster.ranker.data.judge import (
    ChatJudge,
    HeuristicJudge,
    LMJudge,
    QualityJudge,
    expected_digit,
    judge_agreement,
    score_many,
)
from scar_dagster.schema import QUADRUPLE_JUDGE_FAILED, QUADRUPLE_JUDGE_UNPARSEABLE
from tests.fake_chat import ScriptedChat

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


def _judge_replies(*replies: ChatResult, **options: str) -> ChatJudge:
    """A ChatJudge whose backend answers ``replies`` in turn (helpfulness, correctness, ...)."""
    queue = list(replies)
    chat = ScriptedChat(lambda request: queue.pop(0), name="fake")
    return ChatJudge(chat, max_tokens=32, **options)


def _said(text: str, finish: str = "stop") -> ChatResult:
    return ChatResult(content=text, finish_reason=finish)


def test_chat_judge_averages_helpfulness_and_correctness_asked_separately():
    judge = _judge_replies(_said("Useful.\nScore: 8"), _said("Accurate.\nScore: 5"))
    (rating,) = judge.rate_batch([Q], [GOOD])
    assert (rating.helpfulness, rating.correctness, rating.quality) == (8.0, 5.0, 6.5)
    help_request, correct_request = judge.chat.asked
    assert "helpfulness" in help_request.messages[-1]["content"]
    assert "correctness" in correct_request.messages[-1]["content"]
    assert help_request.max_tokens == 32 and judge.name == "llm-judge:fake"


def test_malformed_judge_replies_are_unrated_with_a_reason_never_zero():
    judge = _judge_replies(
        _said("I cannot rate this."),  # no number at all
        _said("Score: 7"),
        _said("The answer starts well and has 3", finish="length"),  # cut before Score
        _said("Score: 6"),
        _said("Score: 10"),  # out of range
        _said("Score: 6"),
        ChatResult(error="llm_timeout", detail="timed out (after 6 attempts)"),
        _said("Score: 2"),
    )
    ratings = judge.rate_batch([Q] * 4, [GOOD] * 4)
    assert [r.quality for r in ratings] == [None] * 4
    assert [r.reason for r in ratings] == [
        QUADRUPLE_JUDGE_UNPARSEABLE,
        QUADRUPLE_JUDGE_UNPARSEABLE,
        QUADRUPLE_JUDGE_UNPARSEABLE,
        QUADRUPLE_JUDGE_FAILED,
    ]
    assert "cut at max_tokens" in ratings[1].detail and "outside 0-9" in ratings[2].detail
    assert ratings[0].correctness == 7.0  # the parseable half is kept for the record


def test_rows_with_malformed_ratings_are_excluded_from_training_data():
    from scar_dagster.ranker.data.training_data import build_quadruples

    def reply(request):
        text = request.messages[-1]["content"]
        if "Rate the answer" not in text:
            return _said("Boil the egg for seven minutes, then cool it in cold water.")
        return _said("Score: 8" if "cast iron" in text else "no idea")

    chat = ScriptedChat(reply, name="fake")
    pairs = [("How do I boil an egg?", "boil it 7 min"), ("Clean a cast iron pan?", "hot water")]
    build = build_quadruples(pairs, chat, ChatJudge(chat))
    assert [r["instruction"] for r in build.rows] == ["Clean a cast iron pan?"]
    assert build.rows[0]["quality_human"] == 8.0 and build.rows[0]["helpfulness_direct"] == 8.0
    assert [d.reason for d in build.dropped] == [QUADRUPLE_JUDGE_UNPARSEABLE]
    assert build.failed == 0


def test_chat_judge_asks_with_the_given_prompts_and_names_its_options(tmp_path):
    from scar_dagster.llm.prompt_files import load_prompts

    path = tmp_path / "p.toml"
    path.write_text(
        "[direct]\nuser = '{instruction}'\n[referenced]\nuser = '{instruction} {human}'\n"
        "[helpfulness]\nuser = 'H? Instruction: {PROBLEM} Response: {OUTPUT}'\n"
        "[correctness]\nuser = 'C? Instruction: {PROBLEM} Response: {OUTPUT}'\n"
    )
    prompts = load_prompts(path)
    chat = ScriptedChat(lambda request: _said("Score: 7"), name="fake")
    judge = ChatJudge(chat, prompts=prompts, parse="most_common_number", unparseable="zero")
    assert judge.rate_batch([Q], [GOOD])[0].quality == 7.0
    assert [r.messages for r in chat.asked] == [
        ({"role": "user", "content": f"H? Instruction: {Q} Response: {GOOD}"},),
        ({"role": "user", "content": f"C? Instruction: {Q} Response: {GOOD}"},),
    ]
    assert judge.name == (
        f"llm-judge:fake[prompts={prompts.fingerprint},parse=most_common_number,unparseable=zero]"
    )
    assert ChatJudge(chat, prompts=prompts).name == f"llm-judge:fake[prompts={prompts.fingerprint}]"


def test_parse_rule_most_common_number_reads_the_toolkits_way():
    reply = "Helpfulness: 6\nI'd say 6/9.\nFinal Helpfulness Score (0-9): 8"
    ours = _judge_replies(_said(reply), _said("Score: 8"))
    toolkit = _judge_replies(_said(reply), _said("Score: 8"), parse="most_common_number")
    assert ours.rate_batch([Q], [GOOD])[0].helpfulness == 8.0
    assert toolkit.rate_batch([Q], [GOOD])[0].helpfulness == 6.0


def test_a_reply_cut_at_the_cap_is_unparseable_by_last_score_but_read_by_the_toolkits_rule():
    cut = _said("The score is 7 so far, and then", finish="length")
    ours = _judge_replies(cut, _said("Score: 6"))
    toolkit = _judge_replies(cut, _said("Score: 6"), parse="most_common_number")
    assert ours.rate_batch([Q], [GOOD])[0].reason == QUADRUPLE_JUDGE_UNPARSEABLE
    assert toolkit.rate_batch([Q], [GOOD])[0].quality == 6.5


def test_unparseable_zero_scores_an_unreadable_rating_0_but_never_a_failed_request():
    replies = [
        _said("I cannot rate this."),  # unparseable helpfulness
        _said("Score: 7"),
        ChatResult(error="llm_timeout", detail="timed out"),  # failed, not zeroed
        _said("Score: 5"),
    ]
    judge = _judge_replies(*replies, unparseable="zero")
    zeroed, failed = judge.rate_batch([Q, Q], [GOOD, GOOD])
    assert (zeroed.quality, zeroed.helpfulness, zeroed.correctness) == (3.5, 0.0, 7.0)
    assert zeroed.reason is None and "scored 0: unparseable=zero" in zeroed.detail
    assert failed.quality is None and failed.reason == QUADRUPLE_JUDGE_FAILED
    assert judge.zeroed == 1
    excluded = _judge_replies(*replies)
    assert [r.reason for r in excluded.rate_batch([Q, Q], [GOOD, GOOD])] == [
        QUADRUPLE_JUDGE_UNPARSEABLE,
        QUADRUPLE_JUDGE_FAILED,
    ]


def test_unknown_judge_options_are_errors():
    chat = ScriptedChat(lambda r: _said("Score: 1"))
    with pytest.raises(ValueError, match="parse rule must be one of"):
        ChatJudge(chat, parse="first_number")
    with pytest.raises(ValueError, match="unparseable policy must be one of"):
        ChatJudge(chat, unparseable="drop")
