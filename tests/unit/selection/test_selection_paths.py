"""curate in memory and streaming mode decides every row as the oracle, for every path."""

from __future__ import annotations

import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.selection import SelectionParams, SelectionRun, curate
from scar_dagster.selection.filters import PairText
from scar_dagster.storage import tables
from scar_dagster.storage.stores import LocalStore
from tests.selection_oracle import oracle_decisions
from tests.selection_pool import RANKER, decide_frame, planted_pairs


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    pairs, features, scores = planted_pairs()
    path = tmp_path_factory.mktemp("paths") / "scores.db"
    engine = tables.create_engine_for(f"sqlite:///{path}")
    tables.ensure_schema(engine)
    # one kept pair has no score: it gets select_unscored
    tables.upsert_scores(engine, scores.iloc[1:].assign(ranker_version=RANKER))
    yield pairs, features, scores.iloc[1:], engine
    engine.dispose()


def _curate(pairs, features, engine, tmp_path, params, mode, texts=None, chunk_rows=9):
    quarantine = pd.DataFrame(columns=list(schema.QUARANTINE_COLUMNS))
    return curate(
        pairs=pairs,
        quarantine=quarantine,
        features=features,
        ranker_version=RANKER,
        params=params,
        engine=engine,
        store=LocalStore(tmp_path / mode),
        prefix="subsets",
        folder=tmp_path / f"work-{mode}",
        run=SelectionRun(mode=mode, chunk_rows=chunk_rows),
        texts=texts,
    )


def _candidates(pairs, features, scores) -> pd.DataFrame:
    scored = scores[["id", "score"]]
    return pairs.merge(features, on="id").merge(scored, on="id")


PARAMS = [
    {"ratio": 0.25, "min_per_source": {"a": 3}, "dedup_keep": "first"},
    {"top_k": 12, "max_per_source": {"b": 2}, "dedup_on": "response"},
    {"threshold": 0.2, "english_rule": "reference", "english_threshold": 0.15},
]


@pytest.mark.parametrize("options", PARAMS, ids=["ratio", "top_k", "threshold"])
@pytest.mark.parametrize("mode", ["memory", "streaming"])
def test_curate_decides_every_row_as_the_oracle(pool, tmp_path, options, mode):
    pairs, features, scores, engine = pool
    params = SelectionParams(**options)
    result = _curate(pairs, features, engine, tmp_path, params, mode)
    assert result.path == mode
    decisions = tables.read_decisions(engine, result.version).set_index("id")
    expected = oracle_decisions(_candidates(pairs, features, scores), params)
    got = decisions.loc[expected["id"]].reset_index()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    unscored = pairs["id"].iloc[0]
    assert decisions.loc[unscored, "reason"] == schema.SELECT_UNSCORED
    assert len(decisions) == len(pairs)
    selected = expected.loc[expected["selected"]].sort_values("rank")["id"].tolist()
    assert result.subset["id"].tolist() == selected


def test_curate_gives_the_same_subset_version_on_both_paths(pool, tmp_path):
    pairs, features, _, engine = pool
    params = SelectionParams(ratio=0.25, min_per_source={"a": 3}, dedup_keep="first")
    memory = _curate(pairs, features, engine, tmp_path, params, "memory")
    memory_decisions = tables.read_decisions(engine, memory.version)
    streaming = _curate(pairs, features, engine, tmp_path, params, "streaming")
    assert (memory.path, streaming.path) == ("memory", "streaming")
    assert memory.version == streaming.version
    pd.testing.assert_frame_equal(memory_decisions, tables.read_decisions(engine, memory.version))
    pd.testing.assert_frame_equal(memory.subset, streaming.subset)
    assert memory.pool_stats == streaming.pool_stats and memory.max_rows == streaming.max_rows


@pytest.mark.parametrize("chunk_rows", [1, 1000])
def test_chunk_size_does_not_change_decisions(pool, chunk_rows):
    pairs, features, scores, _ = pool
    candidates = _candidates(pairs, features, scores)
    params = SelectionParams(ratio=0.4, max_per_source={"b": 5}, dedup_keep="first")
    got = decide_frame(candidates, params, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(got, decide_frame(candidates, params, chunk_rows=7))


def test_texts_are_read_only_through_the_lookup_a_chunk_at_a_time(pool, tmp_path):
    """Pairs without texts and a lookup: every text comes from it, at most a chunk a call."""
    pairs, features, scores, engine = pool
    calls: list[int] = []
    texts = pairs.set_index("id")[["instruction", "response"]]

    def lookup(ids):
        calls.append(len(ids))
        return {i: PairText(*texts.loc[i]) for i in ids if i in texts.index}

    params = SelectionParams(top_k=5)
    keys = pairs[["id", "source", "origin_file", "origin_line"]]
    result = _curate(keys, features, engine, tmp_path, params, "streaming", lookup, chunk_rows=16)
    expected = oracle_decisions(_candidates(pairs, features, scores), params)
    decisions = tables.read_decisions(engine, result.version).set_index("id")
    got = decisions.loc[expected["id"], "reason"].tolist()
    assert got == expected["reason"].tolist()
    assert max(calls) <= 16 and len(calls) > 10


@pytest.mark.parametrize(
    ("mode", "n_rows", "streams"),
    [("auto", 99, False), ("auto", 100, True), ("memory", 10**9, False), ("streaming", 1, True)],
)
def test_auto_mode_streams_from_the_row_bound(mode, n_rows, streams):
    assert SelectionRun(mode=mode, streaming_min_rows=100).streams(n_rows) is streams


@pytest.mark.parametrize(
    "kwargs", [{"mode": "fast"}, {"streaming_min_rows": 0}, {"chunk_rows": True}]
)
def test_selection_run_is_validated(kwargs):
    with pytest.raises(ValueError):
        SelectionRun(**kwargs)
