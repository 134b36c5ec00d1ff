"""Ranker training under bf16 autocast: fp32 master weights, learns, repeatable, named in metrics;
scored_pairs keeps the scoring precision and re-scores on a change of it."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from scar_dagster.ranker.data.quadruple import Quadruple
from scar_dagster.ranker.model.architecture import RankerConfig, build_tiny_ranker
from scar_dagster.ranker.model.train import TrainParams, train_ranker
from scar_dagster.storage import tables
from scar_dagster.torch_env import seed_everything
from tests.planted import quadruple_rows

BF16 = TrainParams(epochs=6, batch_size=4, lr=2e-3, seed=3, dtype="bfloat16")


def _train(params: TrainParams):
    seed_everything(0)
    model, tokenizer = build_tiny_ranker(RankerConfig(hidden_dim=32, max_length=64))
    quads = [Quadruple(**row) for row in quadruple_rows(20, low_direct_every=5)]
    return train_ranker(model, tokenizer, quads, params, log=lambda _: None)


def test_bf16_autocast_training_keeps_fp32_weights_and_learns():
    first = _train(BF16)
    assert {p.dtype for p in first.model.parameters()} == {torch.float32}
    assert first.metrics["val"]["overall"] >= 0.9
    assert first.metrics["params"]["dtype"] == "bfloat16"
    assert first.metrics["precision"]["dtype"] == "bfloat16"
    assert first.metrics["precision"]["device"] == "cpu"
    second = _train(BF16)
    assert first.metrics["history"] == second.metrics["history"]


def test_auto_params_resolve_to_a_concrete_precision():
    resolved = TrainParams(device="auto", dtype="auto").resolved()
    assert resolved.device in ("cpu", "cuda") and resolved.dtype in ("float32", "bfloat16")


def test_scores_are_reused_only_for_the_same_precision(tmp_path):
    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'scores.db'}")
    tables.ensure_schema(engine)
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "ranker_version": "rv1",
            "source": "s",
            "score": [0.5, 0.25],
            "score_precision": "cpu/float32",
        }
    )
    tables.upsert_scores(engine, frame)
    assert tables.already_scored(engine, "rv1", ["a", "b", "c"]) == {"a", "b"}
    assert tables.already_scored(engine, "rv1", ["a", "b"], "cpu/float32") == {"a", "b"}
    assert tables.already_scored(engine, "rv1", ["a", "b"], "cpu/bfloat16") == set()
    tables.upsert_scores(engine, frame.assign(score=[0.5, 0.2], score_precision="cpu/bfloat16"))
    stored = tables.read_scores(engine, "rv1")
    assert stored["score_precision"].tolist() == ["cpu/bfloat16"] * 2  # replaced, not mixed


def test_ensure_schema_adds_the_precision_column_to_an_old_table(tmp_path):
    from sqlalchemy import inspect

    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE scored_pairs (pair_id VARCHAR, ranker_version VARCHAR, source VARCHAR "
            "NOT NULL, score FLOAT NOT NULL, n_words INTEGER, ttr FLOAT, mtld FLOAT, perplexity "
            "FLOAT, scored_at DATETIME NOT NULL, PRIMARY KEY (pair_id, ranker_version))"
        )
    tables.ensure_schema(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("scored_pairs")}
    assert "score_precision" in columns
    tables.ensure_schema(engine)  # idempotent


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_moves_to_the_gpu():
    result = _train(TrainParams(epochs=1, batch_size=4, lr=2e-3, seed=3, device="cuda"))
    assert {p.device.type for p in result.model.parameters()} == {"cuda"}
    assert {p.dtype for p in result.model.parameters()} == {torch.float32}
