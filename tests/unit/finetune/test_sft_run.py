"""A real 2-step SFT of SmolLM2-135M on CPU: saved model reloads, record is complete, seeded."""

from __future__ import annotations

import json
import math

import pytest

from scar_dagster.finetune import SFTParams, read_record, run_local_sft

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
    assert (metrics["n_train_rows"], metrics["n_eval_rows"]) == (14, 2)
    assert metrics["eval_loss_after"] < metrics["eval_loss_before"]
    assert record.params["max_steps"] == 2
    assert "step 2/2" in (root / "model" / "train.log").read_text()
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []  # no temp left


@pytest.mark.slow
def test_saved_model_reloads_and_runs(first_run):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = first_run[0] / "model"
    assert (folder / "model.safetensors").is_file()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
    ids = tokenizer("What is 3 plus 3?", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        logits = model(input_ids=ids).logits
    assert logits.shape[:2] == ids.shape and torch.isfinite(logits).all()


@pytest.mark.slow
def test_same_seed_same_losses_and_existing_output_protected(first_run, smollm2_path):
    root, first = first_run
    with pytest.raises(FileExistsError):
        run_local_sft(ROWS, base_model_path=smollm2_path, output_dir=root / "model", params=PARAMS)
    again = run_local_sft(
        ROWS, base_model_path=smollm2_path, output_dir=root / "model", params=PARAMS, overwrite=True
    )
    for key in ("train_loss", "eval_loss_before", "eval_loss_after"):
        assert again.metrics[key] == first.metrics[key], key
    assert again.subset_version.startswith("content-")  # no version given: content hash
    assert read_record(root / "model") == again


def test_failed_run_raises_and_leaves_no_output(tmp_path):
    with pytest.raises(OSError):
        run_local_sft(ROWS, base_model_path=tmp_path / "missing", output_dir=tmp_path / "model")
    assert list(tmp_path.iterdir()) == []
