"""score_new_pairs: only pairs a ranker version has not scored are scored, with their metrics."""

from __future__ import annotations

import pandas as pd
import pytest

from scar_dagster.ranker.inference.incremental import score_new_pairs
from scar_dagster.schema import STYLE_METRICS
from scar_dagster.storage import tables
from scar_dagster.storage.stores import LocalStore
from tests.tiny_models import publish_tiny_ranker


@pytest.fixture()
def published(tmp_path, one_torch_thread):
    store = LocalStore(tmp_path / "assets")
    version = publish_tiny_ranker(store.root, tmp_path)
    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'scores.db'}")
    tables.ensure_schema(engine)
    yield store, engine, version
    engine.dispose()


def _pairs(n: int) -> pd.DataFrame:
    ids = [f"{i:024x}" for i in range(n)]
    return pd.DataFrame(
        {
            "id": ids,
            "source": "forum",
            "instruction": [f"question {i}" for i in range(n)],
            "response": [f"an answer with {i} words" for i in range(n)],
        }
    )


def _features(pairs: pd.DataFrame) -> pd.DataFrame:
    values = {m: [float(i + 1) for i in range(len(pairs))] for m in STYLE_METRICS}
    return pd.DataFrame({"id": pairs["id"], **values})


def test_a_second_call_scores_only_the_new_pairs(published, tmp_path):
    store, engine, version = published
    first = score_new_pairs(store, engine, version, _pairs(3), cache_dir=tmp_path / "cache")
    assert (first.scored, first.reused, len(first.scores)) == (3, 0, 3)
    pairs = _pairs(5)
    again = score_new_pairs(
        store, engine, version, pairs, features=_features(pairs), cache_dir=tmp_path / "cache"
    )
    assert (again.scored, again.reused, len(again.scores)) == (2, 3, 2)
    stored = tables.read_scores(engine, version).set_index("id").sort_index()
    assert stored.index.tolist() == pairs["id"].tolist()
    assert stored["ttr"].isna().tolist() == [True, True, True, False, False]
    assert stored["n_words"].tolist()[3:] == [4, 5]


def test_nothing_new_loads_no_model_and_has_no_mean(published, tmp_path):
    store, engine, version = published
    score_new_pairs(store, engine, version, _pairs(2), cache_dir=tmp_path / "cache")
    empty = LocalStore(tmp_path / "no-checkpoints")  # loading the ranker from here would fail
    again = score_new_pairs(empty, engine, version, _pairs(2), cache_dir=tmp_path / "other")
    assert (again.scored, again.reused, again.mean) == (0, 2, None)
