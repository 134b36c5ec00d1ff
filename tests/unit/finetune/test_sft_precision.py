"""Local SFT under bf16 autocast: fp32 master weights saved, precision recorded, repeatable."""

from __future__ import annotations

import json

import pytest

from scar_dagster.finetune import SFTParams, run_local_sft

ROWS = [
    {"instruction": f"What is {i} plus {i}?", "input": "", "output": f"{i} plus {i} is {2 * i}."}
    for i in range(12)
]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from tests.tiny_models import tiny_llama

    tokenizer, model = tiny_llama(eos_is_sep=True)
    folder = tmp_path_factory.mktemp("tiny_lm")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _run(tiny_model_dir, tmp_path, name: str):
    subset = tmp_path / "alpaca.jsonl"
    subset.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    params = SFTParams(max_steps=3, batch_size=2, max_length=32, num_threads=1, dtype="bf16")
    return run_local_sft(
        subset, base_model_path=tiny_model_dir, output_dir=tmp_path / name, params=params
    )


def test_bf16_sft_records_precision_and_saves_fp32_weights(tiny_model_dir, tmp_path):
    from safetensors import safe_open

    first = _run(tiny_model_dir, tmp_path, "a")
    assert first.params["dtype"] == "bfloat16" and first.params["device"] == "cpu"
    assert first.metrics["precision"]["dtype"] == "bfloat16"
    assert "dtype bfloat16" in (tmp_path / "a" / "train.log").read_text()
    with safe_open(str(tmp_path / "a" / "model.safetensors"), "pt") as weights:
        assert {str(weights.get_tensor(k).dtype) for k in weights.keys()} == {"torch.float32"}  # noqa: SIM118
    second = _run(tiny_model_dir, tmp_path, "b")
    assert first.metrics["train_loss"] == second.metrics["train_loss"]
