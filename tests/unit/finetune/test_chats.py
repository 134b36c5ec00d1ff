"""SFT data for TRL: subset formats, seeded split, prompt-completion rows, long-chat counts."""

from __future__ import annotations

import json

import pytest

from scar_dagster.finetune.chats import (
    count_too_long,
    load_subset,
    prompt_completion,
    split_indices,
    subset_content_version,
    write_alpaca,
)
from scar_dagster.finetune.params import LoraParams, SFTParams


def test_load_subset_formats(tmp_path):
    rows = [
        {"instruction": "Add.", "input": "2 and 2", "output": "4"},
        {"instruction": "Greet.", "response": "Hello!"},
    ]
    expected = [("Add.\n\n2 and 2", "4"), ("Greet.", "Hello!")]
    assert load_subset(rows) == expected
    (tmp_path / "alpaca.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert load_subset(tmp_path / "alpaca.jsonl") == expected
    assert load_subset(str(tmp_path)) == expected  # an exported subset folder
    assert load_subset(write_alpaca(expected, tmp_path / "copy" / "alpaca.jsonl")) == expected


@pytest.mark.parametrize(
    ("rows", "message"),
    [([], "empty"), ([{"instruction": "x"}], "row 0"), ([{"prompt": "x", "output": "y"}], "row 0")],
)
def test_load_subset_rejects_bad_rows(rows, message):
    with pytest.raises(ValueError, match=message):
        load_subset(rows)


def test_content_version_is_stable_and_order_sensitive():
    pairs = [("a", "b"), ("c", "d")]
    assert subset_content_version(pairs) == subset_content_version(list(pairs))
    assert subset_content_version(pairs) != subset_content_version(pairs[::-1])


def test_split_is_seeded_disjoint_and_keeps_one_eval_row():
    train, held_out = split_indices(16, 0.1, seed=0)
    assert (len(train), len(held_out)) == (14, 2)
    assert sorted(train + held_out) == list(range(16))
    assert split_indices(16, 0.1, seed=0) == (train, held_out)
    assert split_indices(16, 0.1, seed=1) != (train, held_out)
    assert len(split_indices(5, 0.1, seed=0)[1]) == 1  # at least one row
    assert split_indices(5, 0.0, seed=0) == ([0, 1, 2, 3, 4], [])
    assert split_indices(1, 0.5, seed=0) == ([0], [])


def test_rows_are_conversational_prompt_completion():
    assert prompt_completion([("Say hi.", "Hi!")]) == [
        {
            "prompt": [{"role": "user", "content": "Say hi."}],
            "completion": [{"role": "assistant", "content": "Hi!"}],
        }
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_steps": 0},
        {"eval_fraction": 1.0},
        {"max_steps": None, "epochs": 0},
        {"gradient_accumulation_steps": 0},
        {"max_length": 4},
        {"warmup_ratio": 1.0},
    ],
)
def test_params_are_validated(kwargs):
    with pytest.raises(ValueError):
        SFTParams(**kwargs)


@pytest.mark.parametrize(
    "kwargs", [{"rank": 0}, {"alpha": 0}, {"dropout": 1.0}, {"target_modules": ()}]
)
def test_lora_params_are_validated(kwargs):
    with pytest.raises(ValueError):
        LoraParams(**kwargs)


def test_lora_params_make_a_peft_config():
    config = LoraParams(rank=4, alpha=8, target_modules=("q_proj",)).to_peft()
    assert (config.r, config.lora_alpha, set(config.target_modules)) == (4, 8, {"q_proj"})
    assert config.task_type == "CAUSAL_LM"


def test_long_chats_are_counted_truncated_or_dropped(smollm2_tokenizer):
    pairs = [("Say hi.", "Hi!"), ("Say hi.", "word " * 100), ("word " * 100, "Hi!")]
    assert count_too_long(smollm2_tokenizer, pairs, max_length=64) == (2, 1)
    assert count_too_long(smollm2_tokenizer, pairs, max_length=512) == (0, 0)
