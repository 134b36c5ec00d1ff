"""The memory and streaming selection paths decide every pair the same way, for every option."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.selection.candidates import build_candidates
from scar_dagster.selection.curate import SelectionRun, curate
from scar_dagster.selection.select import SelectionParams, select_pairs
from scar_dagster.selection.streaming import streaming_decisions
from scar_dagster.storage import tables
from scar_dagster.storage.stores import LocalStore
from tests.selection_pool import RANKER, planted_pairs


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    pairs, features, scores = planted_pairs()
    path = tmp_path_factory.mktemp("paths") / "scores.db"
    engine = tables.create_engine_for(f"sqlite:///{path}")
    tables.ensure_schema(engine)
    # one kept pair has no score: both paths give it select_unscored
    tables.upsert_scores(engine, scores.iloc[1:].assign(ranker_version=RANKER))
    yield pairs, features, scores.iloc[1:], engine
    engine.dispose()


def memory_decisions(pairs, features, scores, params) -> tuple[pd.DataFrame, pd.DataFrame]:
    candidates, unscored = build_candidates(pairs, features, scores)
    return select_pairs(candidates, params), unscored


CUTOFFS = [{"top_k": 12}, {"ratio": 0.3}, {"threshold": 0.2}]
QUOTAS = [
    {},
    {"min_per_source": {"c": 6}},
    {"max_per_source": {"a": 3}},
    {"min_per_source": {"b": 2}, "max_per_source": {"a": 2, "b": 4}},
]
FILTERS = list(
    itertools.product(
        [True, False], ["score", "first"], ["letters", "reference"], ["pair", "response"]
    )
)


@pytest.mark.parametrize("cutoff", CUTOFFS, ids=lambda c: next(iter(c)))
@pytest.mark.parametrize("quotas", QUOTAS, ids=["no-quota", "min", "max", "min+max"])
@pytest.mark.parametrize(
    ("near_dedup", "dedup_keep", "english_rule", "dedup_on"),
    FILTERS,
    ids=["-".join(str(v) for v in f) for f in FILTERS],
)
def test_streaming_decisions_equal_the_memory_path(
    pool, cutoff, quotas, near_dedup, dedup_keep, english_rule, dedup_on
):
    pairs, features, scores, engine = pool
    params = SelectionParams(
        **cutoff,
        **quotas,
        near_dedup=near_dedup,
        dedup_keep=dedup_keep,
        english_rule=english_rule,
        dedup_on=dedup_on,
    )
    expected, unscored = memory_decisions(pairs, features, scores, params)
    got = streaming_decisions(engine, RANKER, pairs, features, params, chunk_rows=7)
    pd.testing.assert_frame_equal(got.decisions, expected)
    assert got.decisions.attrs["notes"] == expected.attrs["notes"]
    pd.testing.assert_frame_equal(got.unscored, unscored)


def test_the_planted_pool_exercises_every_filter(pool):
    """The equality above is not vacuous: each filter rejects rows, and the keep policy and
    the English rule change decisions."""
    pairs, features, scores, _ = pool
    by_keep = {}
    for keep in ("score", "first"):
        decided, _ = memory_decisions(
            pairs, features, scores, SelectionParams(ratio=0.3, dedup_keep=keep)
        )
        by_keep[keep] = decided.set_index("pair_id")["reason"]
        counts = by_keep[keep].value_counts()
        for reason in ("dedup_exact", "dedup_near", "language_non_english", "features_degenerate"):
            assert counts.get(reason, 0) >= 1, (keep, reason)
    assert not by_keep["score"].equals(by_keep["first"])
    rules = [
        memory_decisions(pairs, features, scores, SelectionParams(ratio=0.3, english_rule=rule))[0]
        for rule in ("letters", "reference")
    ]
    assert not rules[0].equals(rules[1])


@pytest.mark.parametrize("chunk_rows", [1, 1000])
def test_chunk_size_does_not_change_decisions(pool, chunk_rows):
    pairs, features, scores, engine = pool
    params = SelectionParams(ratio=0.4, max_per_source={"b": 5}, dedup_keep="first")
    expected, _ = memory_decisions(pairs, features, scores, params)
    got = streaming_decisions(engine, RANKER, pairs, features, params, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(got.decisions, expected)
    assert got.lookups >= (len(pairs) // chunk_rows if chunk_rows == 1 else 1)


def test_streaming_reads_texts_only_through_the_lookup(pool):
    """The streaming pool holds no texts; every text comes from the lookup, chunk by chunk."""
    pairs, features, scores, engine = pool
    calls: list[int] = []
    texts = pairs.set_index("id")[["instruction", "response"]]

    def lookup(ids):
        from scar_dagster.selection.texts import PairText

        calls.append(len(ids))
        return {i: PairText(*texts.loc[i]) for i in ids if i in texts.index}

    params = SelectionParams(top_k=5)
    got = streaming_decisions(
        engine,
        RANKER,
        pairs[["id", "source", "origin_file", "origin_line"]],
        features,
        params,
        lookup,
        chunk_rows=16,
    )
    expected, _ = memory_decisions(pairs, features, scores, params)
    pd.testing.assert_frame_equal(got.decisions, expected)
    assert {"instruction", "response"}.isdisjoint(got.candidates.columns)
    assert max(calls) <= 16 and got.lookups == len(calls)


def _curate(pairs, features, engine, tmp_path, params, mode):
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
        run=SelectionRun(mode=mode, chunk_rows=9),
    )


def test_curate_gives_the_same_subset_version_on_both_paths(pool, tmp_path):
    pairs, features, _, engine = pool
    params = SelectionParams(ratio=0.25, min_per_source={"a": 3}, dedup_keep="first")
    memory = _curate(pairs, features, engine, tmp_path, params, "memory")
    streaming = _curate(pairs, features, engine, tmp_path, params, "streaming")
    assert (memory.path, streaming.path) == ("memory", "streaming")
    assert memory.version == streaming.version
    pd.testing.assert_frame_equal(memory.decisions, streaming.decisions)
    pd.testing.assert_frame_equal(memory.subset, streaming.subset)
    assert memory.pool_stats == streaming.pool_stats and memory.max_rows == streaming.max_rows


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


def test_cross_source_duplicates_keep_the_first_source_and_the_row_order():
    from scar_dagster.selection.candidates import cross_source_duplicates

    pairs = pd.DataFrame(
        {"id": ["x", "y", "x", "z"], "source": ["b", "b", "a", "a"], "response": list("1234")}
    )
    unique, copies = cross_source_duplicates(pairs)
    assert unique[["id", "source"]].values.tolist() == [["y", "b"], ["x", "a"], ["z", "a"]]
    assert copies[["pair_id", "related_id"]].values.tolist() == [["duplicate:b:x", "x"]]
    same, none = cross_source_duplicates(pairs.iloc[[1, 2, 3]])
    assert same["id"].tolist() == ["y", "x", "z"] and none.empty


@pytest.mark.parametrize("dedup_keep", ["score", "first"])
def test_the_pool_report_equals_the_frame_report(pool, dedup_keep):
    """``build_pool_report`` (codes and masks of ``decide_rows``) gives ``build_report``'s
    report of the decision frame: counts, style spread, diff and notes."""
    from scar_dagster.selection.report import (
        build_pool_report,
        build_report,
        pool_histogram_png,
        score_histogram_png,
    )
    from scar_dagster.selection.select import decide_rows, decisions_frame, prepare_pool
    from scar_dagster.selection.texts import frame_lookup

    pairs, features, scores, _ = pool
    params = SelectionParams(ratio=0.3, max_per_source={"a": 4}, dedup_keep=dedup_keep)
    candidates, _ = build_candidates(pairs, features, scores)
    decided_pool = prepare_pool(candidates)
    rows = decide_rows(decided_pool, frame_lookup(decided_pool), params, chunk_rows=5)
    frame = decisions_frame(decided_pool, rows)
    pd.testing.assert_frame_equal(frame, select_pairs(candidates, params))
    previous = frame.loc[frame["selected"]].iloc[2:].assign(pair_id=lambda f: f["pair_id"] + "x")
    expected = build_report(frame, candidates, subset_version="v", previous=previous, seed=3)
    got = build_pool_report(decided_pool, rows, subset_version="v", previous=previous, seed=3)
    pd.testing.assert_frame_equal(got.counts, expected.counts)
    pd.testing.assert_frame_equal(got.style, expected.style, rtol=1e-12)
    pd.testing.assert_frame_equal(got.diff.per_source, expected.diff.per_source)
    for name in ("added", "removed", "kept", "added_sample", "removed_sample"):
        assert getattr(got.diff, name) == getattr(expected.diff, name), name
    assert got.diff.added > 0 and got.diff.removed > 0
    assert got.notes == expected.notes
    assert pool_histogram_png(decided_pool, rows) == score_histogram_png(frame)
    counts = frame["reason"].value_counts().to_dict()
    assert rows.reason_counts() == counts and len(counts) >= 4
