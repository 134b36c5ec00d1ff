"""The ranker stage from each user path: a published SCAR ranker, SCAR's data, preference pairs."""

import json

import pytest
from dagster import DagsterInstance
from transformers import AutoModel, AutoTokenizer

from definitions import build_resources
from scar_dagster.ranker.data.quadruple import Quadruple
from scar_dagster.ranker.model import registry
from scar_dagster.ranker.model.architecture import StyleRanker, build_tiny_ranker
from scar_dagster.ranker.model.train import TrainParams, seed_everything, train_ranker
from scar_dagster.storage.stores import LocalStore
from tests.pipeline import materialize_group
from tests.planted import TOPICS, forum, guide, quadruple_rows
from tests.scar_layout import write_scar_checkpoint, write_scar_data, write_tiny_encoder
from tests.tiny_models import stored_ranker_scores

THEIR_NAMES = {"relation_mlp.": "relation_network.", "score_mlp.": "output_layer."}


def _as_published(model, encoder, folder):
    """Our trained model written in SCAR's published layout (their module names)."""
    state = {}
    for key, value in model.state_dict().items():
        prefix = next((p for p in THEIR_NAMES if key.startswith(p)), None)
        state[THEIR_NAMES[prefix] + key[len(prefix) :] if prefix else key] = value.clone()
    return write_scar_checkpoint(folder, encoder, state=state, linear_dim=32)


@pytest.fixture(scope="module")
def published(tmp_path_factory, one_torch_thread):
    """A published-layout ranker that learned the planted style order (tiny BERT encoder)."""
    root = tmp_path_factory.mktemp("published")
    encoder = write_tiny_encoder(root / "encoder")
    seed_everything(0)
    model = StyleRanker(AutoModel.from_pretrained(encoder), hidden_dim=32, max_length=64)
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    quads = [Quadruple(**row) for row in quadruple_rows(20)]
    params = TrainParams(epochs=5, batch_size=4, lr=2e-3, seed=3)
    train_ranker(model, tokenizer, quads, params, log=lambda _: None)
    return _as_published(model, encoder, root / "scar-ranker")


def _run(tmp_path, instance, ops, default_gate=True):
    home, landing = tmp_path / "home", tmp_path / "landing"
    home.mkdir(exist_ok=True)
    landing.mkdir(exist_ok=True)
    res = build_resources(str(home), str(landing))
    if not default_gate:
        from scar_dagster.dagster.resources import CheckThresholdsResource

        res["check_thresholds"] = CheckThresholdsResource(min_validation_accuracy=0.0)
    result = materialize_group(instance, res, {"ops": ops}, ["ranker"])
    events = {
        e.asset_key.path[-1]: e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    return result, {k: {n: v.value for n, v in m.items()} for k, m in events.items()}, home


def test_pretrained_mode_imports_gates_and_becomes_champion(tmp_path, published):
    quads = tmp_path / "q.jsonl"
    quads.write_text("".join(json.dumps(r) + "\n" for r in quadruple_rows(20)))
    ops = {
        "ranker_training_data": {"config": {"path": str(quads)}},
        "style_ranker": {"config": {"pretrained": str(published), "max_length": 64}},
    }
    with DagsterInstance.ephemeral() as instance:
        result, meta, home = _run(tmp_path, instance, ops)  # default gate: 0.7
        assert result.success
        ranker = meta["style_ranker"]
        assert ranker["promoted"] is True and ranker["source"] == f"imported {published}"
        assert ranker["val_accuracy"] >= 0.7
        assert "was not trained on" in ranker["what_these_measure"]
        assert "bundled" not in ranker["validation_data"]
        assert "pairs_path" in ranker["what_these_measure"]
        store = LocalStore(home)
        assert registry.read_champion(store)["version"] == ranker["trained_version"]
        scores = stored_ranker_scores(
            store,
            ranker["trained_version"],
            ["How do I brew tea?"] * 2,
            [forum("brew tea", 1), guide("brew tea")],
            cache_dir=tmp_path / "cache",
        )
        assert scores[1] > scores[0]
        again, meta2, _ = _run(tmp_path, instance, ops)
        assert meta2["style_ranker"]["trained_version"] == ranker["trained_version"]
        assert "identical to the champion" in meta2["style_ranker"]["decision"]


def test_scar_data_folder_and_preference_pairs_train_through_the_asset(tmp_path, monkeypatch):
    import scar_dagster.ranker.model.architecture as model_module

    monkeypatch.setattr(model_module, "build_ranker", lambda config, **_: build_tiny_ranker(config))
    folder = write_scar_data(tmp_path / "scar", quadruple_rows(15))
    small = {"epochs": 2, "max_length": 64, "hidden_dim": 32, "batch_size": 4, "lr": 1e-3}
    ops = {
        "ranker_training_data": {"config": {"path": str(folder)}},
        "style_ranker": {"config": small},
    }
    with DagsterInstance.ephemeral() as instance:
        result, meta, _ = _run(tmp_path, instance, ops, default_gate=False)
        assert result.success
        data = meta["ranker_training_data"]
        assert (data["format"], data["dagster/row_count"]) == ("scar_folder", 15)
        assert "SCAR's released training data" in data["provenance"]
        assert "SCAR's released training data" in meta["style_ranker"]["training_data"]
        pairs = tmp_path / "pairs.jsonl"
        rows = [
            {"instruction": t, "chosen": guide(t), "rejected": forum(t, i)}
            for i, t in enumerate(TOPICS)
        ]
        pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
        ops["ranker_training_data"] = {"config": {"path": str(pairs)}}
        result, meta, _ = _run(tmp_path, instance, ops, default_gate=False)
        assert result.success
        assert meta["ranker_training_data"]["format"] == "preference_pairs"
        assert meta["style_ranker"]["metrics"]["data"] == "preference_pairs"
        assert "chosen>rejected" in meta["style_ranker"]["metrics"]["val"]


def test_scar_folder_exported_again_by_the_asset_and_a_constraint_mode(tmp_path, monkeypatch):
    import scar_dagster.ranker.model.architecture as model_module

    seen = {}

    def tiny(config, **options):
        seen.update(options)
        return build_tiny_ranker(config)

    monkeypatch.setattr(model_module, "build_ranker", tiny)
    folder = write_scar_data(tmp_path / "scar", quadruple_rows(15, low_direct_every=4))
    data_config = {
        "path": str(folder),
        "export_scar_path": str(tmp_path / "out"),
        "export_scar_domain": "code",
    }
    small = {"epochs": 1, "max_length": 64, "hidden_dim": 32, "batch_size": 4, "lr": 1e-3}
    ranker = {**small, "constraint_mode": "none", "trust_remote_code": True}
    ops = {"ranker_training_data": {"config": data_config}, "style_ranker": {"config": ranker}}
    with DagsterInstance.ephemeral() as instance:
        result, meta, _ = _run(tmp_path, instance, ops, default_gate=False)
    assert result.success
    exported = tmp_path / "out" / "ranker_data" / "code" / "unknown"  # the folder names none
    assert meta["ranker_training_data"]["scar_export"]["folder"] == str(exported)
    for path in folder.rglob("*.json"):
        again = exported / path.relative_to(folder)
        assert json.loads(again.read_text()) == json.loads(path.read_text()), path.name
    metrics = meta["style_ranker"]["metrics"]
    assert metrics["params"]["constraint_mode"] == "none"
    assert set(metrics["excluded_pairs"].values()) == {0}  # abs would exclude the low directs
    assert seen == {"trust_remote_code": True}
