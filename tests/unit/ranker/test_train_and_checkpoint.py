"""Training learns a planted style order reproducibly; checkpoints load strictly or not at all."""

import json

import pytest
import torch

from scar_dagster.ranker.data.quadruple import Quadruple
from scar_dagster.ranker.inference.scoring import score_pairs
from scar_dagster.ranker.model import registry
from scar_dagster.ranker.model.architecture import RankerConfig, build_tiny_ranker
from scar_dagster.ranker.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from scar_dagster.ranker.model.service import train_and_promote
from scar_dagster.ranker.model.train import TrainParams, seed_everything, train_ranker
from scar_dagster.storage.stores import LocalStore
from tests.planted import quadruple_rows
from tests.tiny_models import stored_ranker_scores


def planted(n: int = 20) -> list[Quadruple]:
    """direct = markdown guide, referenced = plain sentences, human = terse lowercase."""
    return [Quadruple(**row) for row in quadruple_rows(n, low_direct_every=5)]


def _tiny(seed: int = 0):
    seed_everything(seed)
    return build_tiny_ranker(RankerConfig(hidden_dim=32, max_length=64))


FAST = TrainParams(epochs=6, batch_size=4, lr=2e-3, seed=3)


def test_training_learns_planted_style_order_and_is_reproducible():
    model, tokenizer = _tiny()
    first = train_ranker(model, tokenizer, planted(), FAST, log=lambda _: None)
    assert first.metrics["val"]["overall"] >= 0.9
    assert first.metrics["excluded_pairs"] == {
        "direct>referenced": 4,
        "referenced>human": 0,
        "direct>human": 4,
    }
    model2, tokenizer2 = _tiny()
    second = train_ranker(model2, tokenizer2, planted(), FAST, log=lambda _: None)
    assert first.metrics["history"] == second.metrics["history"]
    for (name, a), (_, b) in zip(
        first.model.state_dict().items(), second.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_checkpoint_round_trip_gives_identical_scores(tmp_path):
    model, tokenizer = _tiny()
    config = RankerConfig(hidden_dim=32, max_length=64)
    version = save_checkpoint(model, config, tmp_path / "c", training_fingerprint="f")
    loaded, tok, document = load_checkpoint(tmp_path / "c")
    assert document["version"] == version
    xs, ys = ["How do I sort?", "Why?"], ["Use sorted().", "because"]
    assert (score_pairs(model, tokenizer, xs, ys) == score_pairs(loaded, tok, xs, ys)).all()


@pytest.mark.parametrize("damage", ["truncate", "flip", "config", "shape", "extra_key"])
def test_damaged_checkpoints_fail_clearly(tmp_path, damage):
    from safetensors.torch import load_file, save_file

    model, _ = _tiny()
    folder = tmp_path / "c"
    save_checkpoint(
        model, RankerConfig(hidden_dim=32, max_length=64), folder, training_fingerprint="f"
    )
    weights, config = folder / "model.safetensors", folder / "config.json"
    if damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:100])
    elif damage == "flip":
        data = bytearray(weights.read_bytes())
        data[-1] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "config":
        document = json.loads(config.read_text())
        document["ranker"]["hidden_dim"] = 64
        config.write_text(json.dumps(document))
    else:
        state = load_file(str(weights))
        if damage == "shape":
            state["score_mlp.0.weight"] = torch.zeros(3, 3)
        else:
            state["unexpected.weight"] = torch.zeros(1)
        save_file(state, str(weights))
        document = json.loads(config.read_text())
        import hashlib

        document["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
        config.write_text(json.dumps(document))
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(folder)
    assert str(folder) in str(caught.value)


def test_champion_challenger(tmp_path, monkeypatch):
    """A better challenger is promoted; a worse one is not; scoring uses the champion."""
    store = LocalStore(tmp_path / "store")
    import scar_dagster.ranker.model.architecture as model_module

    monkeypatch.setattr(model_module, "build_ranker", lambda config, **_: build_tiny_ranker(config))
    config = RankerConfig(hidden_dim=32, max_length=64)
    good = train_and_promote(
        store,
        planted(),
        config=config,
        params=FAST,
        cache_dir=tmp_path / "cache",
        min_accuracy=0.5,
        log=lambda _: None,
    )
    assert good.promoted and registry.read_champion(store)["version"] == good.trained_version
    weak = TrainParams(epochs=1, batch_size=4, lr=1e-9, seed=5)
    worse = train_and_promote(
        store,
        planted(),
        config=config,
        params=weak,
        cache_dir=tmp_path / "cache",
        min_accuracy=0.0,
        log=lambda _: None,
    )
    assert not worse.promoted and worse.champion_version == good.trained_version
    assert registry.read_champion(store)["version"] == good.trained_version
    scores = stored_ranker_scores(
        store,
        good.trained_version,
        ["How do I brew tea?"] * 2,
        ["just brew tea lol", "## Tea\n\n- **Step 1**: boil."],
        cache_dir=tmp_path / "cache",
    )
    assert scores[1] > scores[0]


def test_published_checkpoint_carries_its_tokenizer(tmp_path):
    model, tokenizer = _tiny()
    config = RankerConfig(hidden_dim=32, max_length=64)
    version = save_checkpoint(
        model, config, tmp_path / "c", training_fingerprint="f", tokenizer=tokenizer
    )
    store = LocalStore(tmp_path / "store")
    registry.publish_checkpoint(store, tmp_path / "c", version)
    local = registry.fetch_checkpoint(store, version, tmp_path / "cache")
    assert (local / "tokenizer" / "tokenizer_config.json").is_file()
    loaded, tok, _ = load_checkpoint(local)
    xs, ys = ["How do I sort?"], ["Use sorted()."]
    assert (score_pairs(model, tokenizer, xs, ys) == score_pairs(loaded, tok, xs, ys)).all()
