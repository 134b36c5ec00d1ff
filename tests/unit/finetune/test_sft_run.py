"""A real TRL SFT of SmolLM2-135M on CPU, a few steps: the output loads with transformers and
generates, the record is complete, runs are seeded, nothing is pickled, failures leave nothing."""

from __future__ import annotations

import json
import math

import pytest

from scar_dagster.finetune import LoraParams, SFTParams, read_record, run_local_sft

ROWS = [
    {"instruction": f"What is {i} plus {i}?", "input": "", "output": f"{i} plus {i} is {2 * i}."}
    for i in range(16)
]
PARAMS = SFTParams(max_steps=2, batch_size=2, max_length=64, seed=0, num_threads=1)


@pytest.fixture(scope="module")
def first_run(smollm2_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("sft")
    subset = root / "alpaca.jsonl"
    subset.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    record = run_local_sft(
        subset,
        base_model_path=smollm2_path,
        output_dir=root / "model",
        params=PARAMS,
        subset_version="subset-v1",
    )
    return root, record


def _generate(folder, instruction: str = "What is 3 plus 3?") -> str:
    """Greedy reply of the model in ``folder``, loaded with plain transformers."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True).eval()
    chat = [{"role": "user", "content": instruction}]
    ids = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt")
    ids = ids["input_ids"] if hasattr(ids, "keys") else ids
    with torch.inference_mode():
        out = model.generate(ids, max_new_tokens=8, do_sample=False)
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


@pytest.mark.slow
def test_record_names_subset_model_and_losses(first_run, smollm2_path):
    root, record = first_run
    assert read_record(root / "model") == record
    assert (record.status, record.mode, record.subset_version) == (
        "succeeded",
        "local_sft",
        "subset-v1",
    )
    assert record.base_model == smollm2_path and record.subset_path == str(root / "alpaca.jsonl")
    metrics = record.metrics
    assert len(metrics["train_loss"]) == 2 and all(math.isfinite(x) for x in metrics["train_loss"])
    assert (metrics["n_train_rows"], metrics["n_eval_rows"], metrics["steps"]) == (14, 2, 2)
    assert metrics["eval_loss_after"] < metrics["eval_loss_before"]
    assert metrics["train_tokens"] > 0 and metrics["output_format"] == "full"
    assert metrics["trainer"].startswith("trl ")
    assert metrics["trainable_parameters"] == metrics["parameters"] > 100_000_000
    assert record.params["max_steps"] == 2 and record.params["lora"] is None
    log = (root / "model" / "train.log").read_text()
    assert "step 2/2 loss" in log and "eval_loss_after" in log
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []  # no temp left


@pytest.mark.slow
def test_saved_model_is_safetensors_only_and_generates(first_run):
    folder = first_run[0] / "model"
    names = {p.name for p in folder.iterdir()}
    assert "model.safetensors" in names and "config.json" in names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pkl"))]  # no pickle
    assert not [n for n in names if n.startswith(".")]  # the trainer's scratch is gone
    assert _generate(folder).strip()


@pytest.mark.slow
def test_same_seed_same_losses_and_existing_output_protected(first_run, smollm2_path):
    root, first = first_run
    with pytest.raises(FileExistsError):
        run_local_sft(ROWS, base_model_path=smollm2_path, output_dir=root / "model", params=PARAMS)
    again = run_local_sft(
        ROWS, base_model_path=smollm2_path, output_dir=root / "model", params=PARAMS, overwrite=True
    )
    for key in ("train_loss", "eval_loss_before", "eval_loss_after", "train_tokens"):
        assert again.metrics[key] == first.metrics[key], key
    assert again.subset_version.startswith("content-")  # no version given: content hash
    assert read_record(root / "model") == again


@pytest.mark.slow
def test_lora_adapter_with_accumulation_loads_with_transformers(smollm2_path, tmp_path):
    lora = LoraParams(rank=4, alpha=8, target_modules=("q_proj", "v_proj"), merge=False)
    params = SFTParams(
        max_steps=2, batch_size=1, gradient_accumulation_steps=2, max_length=64, lr=1e-3,
        num_threads=1, lora=lora, eval_fraction=0.0,
    )  # fmt: skip
    record = run_local_sft(
        ROWS[:6], base_model_path=smollm2_path, output_dir=tmp_path / "lora", params=params
    )
    metrics = record.metrics
    assert metrics["output_format"] == "lora_adapter" and metrics["steps"] == 2
    assert 0 < metrics["trainable_parameters"] < metrics["parameters"] / 100
    assert metrics["eval_loss_before"] is None and metrics["n_eval_rows"] == 0
    names = {p.name for p in (tmp_path / "lora").iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json"} <= names
    assert "model.safetensors" not in names
    assert _generate(tmp_path / "lora").strip()


def test_merged_lora_is_a_plain_model_folder(tmp_path):
    from tests.tiny_models import tiny_llama

    tokenizer, model = tiny_llama(eos_is_sep=True)
    model.save_pretrained(tmp_path / "base")
    tokenizer.save_pretrained(tmp_path / "base")
    lora = LoraParams(rank=2, alpha=4, target_modules=("q_proj",), dropout=0.0)
    params = SFTParams(max_steps=1, batch_size=2, max_length=32, num_threads=1, lora=lora)
    record = run_local_sft(
        ROWS, base_model_path=tmp_path / "base", output_dir=tmp_path / "out", params=params
    )
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert record.metrics["output_format"] == "lora_merged"
    assert "model.safetensors" in names and "adapter_config.json" not in names


def test_failed_run_raises_and_leaves_no_output(tmp_path):
    with pytest.raises(OSError):
        run_local_sft(ROWS, base_model_path=tmp_path / "missing", output_dir=tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_a_gpu_other_than_the_first_visible_is_refused(tmp_path, monkeypatch):
    from scar_dagster import precision

    monkeypatch.setattr(precision, "_cuda_available", lambda: True)
    monkeypatch.setattr(precision, "_cuda_device_count", lambda: 2)
    with pytest.raises(ValueError, match="CUDA_VISIBLE_DEVICES"):
        run_local_sft(
            ROWS,
            base_model_path=tmp_path / "missing",
            output_dir=tmp_path / "model",
            params=SFTParams(device="cuda:1"),
        )
    assert list(tmp_path.iterdir()) == []
