"""Training a ranker on an encoder that ships its own code (gte-*-en-v1.5 style) is opt-in
(trust_remote_code); its checkpoint records that and loads only with the same opt-in."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from scar_dagster.ranker.data.quadruple import Quadruple
from scar_dagster.ranker.inference.scoring import score_pairs
from scar_dagster.ranker.model import registry
from scar_dagster.ranker.model.architecture import RankerConfig, build_ranker, remote_code_record
from scar_dagster.ranker.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from scar_dagster.ranker.model.service import train_and_promote
from scar_dagster.ranker.model.train import TrainParams, seed_everything, train_ranker
from scar_dagster.storage.stores import LocalStore
from tests.planted import quadruple_rows
from tests.unit.ranker.remote_code_encoder import write_remote_code_encoder

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FAST = TrainParams(epochs=2, batch_size=4, lr=2e-3, seed=3)
TEXTS = (["How do I brew tea?"] * 2, ["just brew tea lol", "## Tea\n\n- **Step 1**: boil."])


@pytest.fixture
def encoder(tmp_path, monkeypatch):
    """The encoder folder; transformers copies its code under tmp_path, not the user cache."""
    import transformers.dynamic_module_utils as dynamic

    monkeypatch.setattr(dynamic, "HF_MODULES_CACHE", str(tmp_path / "hf_modules"))
    return write_remote_code_encoder(tmp_path / "gte-like")


def _config(encoder) -> RankerConfig:
    return RankerConfig(encoder=str(encoder), hidden_dim=16, max_length=48)


def test_an_encoder_with_its_own_code_builds_only_when_trusted(encoder):
    with pytest.raises(ValueError, match="ships its own Python code.*trust_remote_code"):
        build_ranker(_config(encoder))
    model, tokenizer = build_ranker(_config(encoder), trust_remote_code=True)
    assert type(model.encoder).__name__ == "TinyRemoteModel"  # the folder's own class
    saved = load_file(str(encoder / "model.safetensors"))
    assert torch.equal(model.encoder.embeddings.weight, saved["embeddings.weight"])
    assert remote_code_record(model) == {"source": str(encoder)}
    assert tokenizer("How do I brew tea?")["input_ids"][0] == tokenizer.cls_token_id


def test_it_trains_and_its_checkpoint_needs_the_same_opt_in(encoder, tmp_path):
    seed_everything(0)
    model, tokenizer = build_ranker(_config(encoder), trust_remote_code=True)
    quads = [Quadruple(**row) for row in quadruple_rows(12)]
    result = train_ranker(model, tokenizer, quads, FAST, log=lambda _: None)
    assert sum(epoch["steps"] for epoch in result.metrics["history"]) > 0
    save_checkpoint(
        result.model,
        _config(encoder),
        tmp_path / "ckpt",
        training_fingerprint="f",
        tokenizer=tokenizer,
        remote_code_encoder=remote_code_record(result.model),
    )
    document = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert document["remote_code_encoder"] == {"source": str(encoder)}
    with pytest.raises(CheckpointError, match="runs its own Python code"):
        load_checkpoint(tmp_path / "ckpt")
    loaded, loaded_tokenizer, _ = load_checkpoint(tmp_path / "ckpt", trust_remote_code=True)
    expected = score_pairs(result.model.eval(), tokenizer, *TEXTS)
    assert torch.equal(
        torch.as_tensor(score_pairs(loaded, loaded_tokenizer, *TEXTS)), torch.as_tensor(expected)
    )


def test_train_and_promote_passes_the_opt_in_and_scoring_loads_the_champion(encoder, tmp_path):
    store = LocalStore(tmp_path / "store")
    common = {
        "config": _config(encoder),
        "params": FAST,
        "cache_dir": tmp_path / "cache",
        "min_accuracy": 0.0,
        "log": lambda _: None,
    }
    quads = [Quadruple(**row) for row in quadruple_rows(12)]
    with pytest.raises(ValueError, match="trust_remote_code"):
        train_and_promote(store, quads, **common)
    decision = train_and_promote(store, quads, trust_remote_code=True, **common)
    assert decision.promoted
    model, tokenizer = registry.load_from_store(store, decision.trained_version, tmp_path / "cache")
    assert type(model.encoder).__name__ == "TinyRemoteModel"
    assert len(score_pairs(model, tokenizer, *TEXTS)) == 2
