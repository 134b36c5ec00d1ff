"""SFT data: subset formats, seeded split, chat encoding and loss masking (real tokenizer)."""

from __future__ import annotations

import json

import pytest

from scar_dagster.finetune.data import (
    IGNORE_INDEX,
    collate,
    encode_example,
    load_subset,
    split_indices,
    subset_content_version,
)
from scar_dagster.finetune.sft import SFTParams


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


def test_params_are_validated():
    with pytest.raises(ValueError):
        SFTParams(max_steps=0)
    with pytest.raises(ValueError):
        SFTParams(eval_fraction=1.0)


def test_labels_are_masked_exactly_on_prompt_tokens(smollm2_tokenizer):
    tok = smollm2_tokenizer
    long_one = encode_example(tok, "Name three colors.", "Red, green and blue.", 256)
    short_one = encode_example(tok, "Say hi.", "Hi!", 256)
    prompt_text = tok.apply_chat_template(
        [{"role": "user", "content": "Name three colors."}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert tok.decode(long_one.input_ids[: long_one.n_prompt]) == prompt_text
    assert tok.decode(long_one.input_ids[long_one.n_prompt :]).startswith("Red, green and blue.")

    batch = collate([long_one, short_one], tok.pad_token_id)
    for row, example in enumerate([long_one, short_one]):
        ids, labels = batch["input_ids"][row].tolist(), batch["labels"][row].tolist()
        n, p = len(example.input_ids), example.n_prompt
        assert ids[:n] == example.input_ids
        assert labels[:p] == [IGNORE_INDEX] * p  # prompt
        assert labels[p:n] == example.input_ids[p:]  # response, including <|im_end|>
        assert labels[n:] == [IGNORE_INDEX] * (len(labels) - n)  # padding
        assert batch["attention_mask"][row].tolist() == [1] * n + [0] * (len(labels) - n)
    assert tok.eos_token_id in batch["labels"][1].tolist()  # learns to stop


def test_truncation_keeps_assistant_header_and_response_start(smollm2_tokenizer):
    tok = smollm2_tokenizer
    example = encode_example(tok, "word " * 200, "answer " * 200, max_length=64)
    assert example.truncated and len(example.input_ids) == 64
    assert example.n_prompt == 32  # the response keeps half the budget
    assert tok.decode(example.input_ids[: example.n_prompt]).endswith("<|im_start|>assistant\n")
    assert tok.decode(example.input_ids[example.n_prompt :]).startswith("answer answer")
