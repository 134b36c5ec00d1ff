"""Strict loads name the offending keys; a missing weight is never silently re-initialised."""

from __future__ import annotations

import hashlib
import json

import pytest

from scar_dagster.ranker.model.architecture import RankerConfig
from scar_dagster.ranker.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _resave(folder, state) -> None:
    from safetensors.torch import save_file

    weights = folder / "model.safetensors"
    save_file(state, str(weights))
    config = json.loads((folder / "config.json").read_text())
    config["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (folder / "config.json").write_text(json.dumps(config))


def test_missing_key_is_named(tmp_path, tiny_ranker):
    from safetensors.torch import load_file

    model, _ = tiny_ranker
    folder = tmp_path / "ck"
    save_checkpoint(
        model, RankerConfig(hidden_dim=16, max_length=64), folder, training_fingerprint="t"
    )
    state = load_file(str(folder / "model.safetensors"))
    del state["relation_mlp.2.bias"]
    _resave(folder, state)
    with pytest.raises(CheckpointError, match=r"relation_mlp\.2\.bias"):
        load_checkpoint(folder)


def test_missing_weights_file(tmp_path, tiny_ranker):
    model, _ = tiny_ranker
    folder = tmp_path / "ck"
    save_checkpoint(
        model, RankerConfig(hidden_dim=16, max_length=64), folder, training_fingerprint="t"
    )
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_checkpoint(folder)
