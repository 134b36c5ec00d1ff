"""streaming_select: same ids and ranks as select_pairs, texts fetched only for walked chunks."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.selection.select import SelectionParams, select_pairs
from scar_dagster.selection.streaming import (
    MISSING_TEXT,
    PairText,
    iter_score_chunks,
    streaming_select,
)
from scar_dagster.storage import tables

RANKER = "rv-test"


def planted_pool(n: int = 120, seed: int = 3) -> pd.DataFrame:
    """Pairs with tied scores, exact duplicates (one best copy non-English), non-English and
    degenerate rows."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = " ".join(f"w{rng.randrange(900)}" for _ in range(rng.randint(5, 30)))
        rows.append(
            {
                "id": f"{rng.getrandbits(48):012x}",
                "source": "abcd"[i % 4],
                "score": round(rng.uniform(-1, 1), 1),  # one decimal: many ties
                "instruction": f"Explain item {i % 50}.",
                "response": words,
                "degenerate_reason": None,
            }
        )
    pool = pd.DataFrame(rows)
    pool.loc[5, "response"] = pool.loc[4, "response"].upper()  # same text after case-folding
    pool.loc[5, "instruction"] = pool.loc[4, "instruction"]
    pool.loc[9, ["instruction", "response"]] = pool.loc[8, ["instruction", "response"]].tolist()
    pool.loc[8, "response"] = pool.loc[9, "response"] = "Привет мир, как дела сегодня"
    pool.loc[8, "score"], pool.loc[9, "score"] = 0.95, 0.9  # best copy is non-English
    pool.loc[[11, 23], "response"] = "Это совсем не английский текст"
    pool.loc[[13, 31], "degenerate_reason"] = "features_empty_response"
    pool.loc[40:60, "score"] = 0.5  # a long run of ties across chunks
    return pool


def write_scores(engine, pool: pd.DataFrame) -> None:
    frame = pool[["id", "source", "score"]].rename(columns={"id": "pair_id"})
    tables.upsert_scores(engine, frame.assign(ranker_version=RANKER))


class Lookup:
    """A TextLookup over a frame that records the chunks it was asked for."""

    def __init__(self, pool: pd.DataFrame) -> None:
        self.by_id = {
            row.id: PairText(row.instruction, row.response, row.degenerate_reason)
            for row in pool.itertuples()
        }
        self.calls: list[list[str]] = []

    def __call__(self, ids: Sequence[str]) -> Mapping[str, PairText]:
        self.calls.append(list(ids))
        return {i: self.by_id[i] for i in ids if i in self.by_id}


@pytest.fixture()
def engine(tmp_path):
    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'scores.db'}")
    tables.ensure_schema(engine)
    yield engine
    engine.dispose()


def expected(pool: pd.DataFrame, params: SelectionParams) -> pd.DataFrame:
    decisions = select_pairs(pool, params)
    return decisions.loc[decisions["selected"], ["pair_id", "rank"]].reset_index(drop=True)


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
@pytest.mark.parametrize(
    "cutoff",
    [{"top_k": 0}, {"top_k": 1}, {"top_k": 25}, {"top_k": 500}, {"threshold": 0.5}],
)
@pytest.mark.parametrize("dedup_on", ["pair", "response"])
@pytest.mark.parametrize("english_rule", ["letters", "reference"])
def test_same_ids_and_ranks_as_select_pairs(engine, chunk_rows, cutoff, dedup_on, english_rule):
    pool = planted_pool()
    write_scores(engine, pool)
    params = SelectionParams(
        **cutoff, near_dedup=False, dedup_on=dedup_on, english_rule=english_rule
    )
    result = streaming_select(engine, RANKER, params, Lookup(pool), chunk_rows=chunk_rows)
    got = result.selected[["pair_id", "rank"]].astype({"rank": "Int64"})
    pd.testing.assert_frame_equal(got, expected(pool, params), check_dtype=False)
    assert result.selected["score"].is_monotonic_decreasing


def test_rejections_are_counted_by_reason(engine):
    pool = planted_pool()
    write_scores(engine, pool)
    params = SelectionParams(top_k=1000, near_dedup=False)
    result = streaming_select(engine, RANKER, params, Lookup(pool), chunk_rows=16)
    decisions = select_pairs(pool, params)
    assert result.walked == len(pool)
    assert dict(result.reasons) == {
        reason: int((decisions["reason"] == reason).sum())
        for reason in (
            schema.FEATURES_DEGENERATE,
            schema.DEDUP_EXACT,
            schema.LANGUAGE_NON_ENGLISH,
        )
    }


def test_texts_are_fetched_only_for_walked_chunks(engine):
    pool = planted_pool()
    write_scores(engine, pool)
    lookup = Lookup(pool)
    result = streaming_select(
        engine, RANKER, SelectionParams(top_k=5, near_dedup=False), lookup, chunk_rows=10
    )
    assert len(result.selected) == 5
    assert [len(call) for call in lookup.calls] == [10]
    assert result.chunks == 1


def test_scored_pairs_without_texts_are_not_candidates(engine):
    pool = planted_pool()
    write_scores(engine, pool)
    known = pool.drop(index=pool["score"].idxmax())
    params = SelectionParams(top_k=10, near_dedup=False)
    result = streaming_select(engine, RANKER, params, Lookup(known), chunk_rows=4)
    assert result.reasons[MISSING_TEXT] == 1
    assert result.selected["pair_id"].tolist() == expected(known, params)["pair_id"].tolist()


def test_chunks_come_in_score_then_id_order(engine):
    pool = planted_pool()
    write_scores(engine, pool)
    rows = [row for chunk in iter_score_chunks(engine, RANKER, chunk_rows=9) for row in chunk]
    assert rows == sorted(rows, key=lambda row: (-row[2], row[0]))
    assert len(rows) == len(pool)
    assert not list(iter_score_chunks(engine, "other-ranker"))


@pytest.mark.parametrize(
    "params",
    [
        SelectionParams(ratio=0.5, near_dedup=False),
        SelectionParams(top_k=3, near_dedup=False, max_per_source={"a": 1}),
        SelectionParams(top_k=3, near_dedup=False, min_per_source={"a": 1}),
        SelectionParams(top_k=3),  # near_dedup defaults to True
        SelectionParams(top_k=3, near_dedup=False, dedup_keep="first"),
    ],
)
def test_whole_pool_options_are_refused(engine, params):
    with pytest.raises(ValueError, match="streaming selection"):
        streaming_select(engine, RANKER, params, Lookup(planted_pool()))


@pytest.mark.slow
def test_postgres_walks_in_code_point_order(postgres_url):
    """Ties are broken by code point (as in select_pairs), not by the server's locale."""
    pool = planted_pool()
    pool["id"] = [f"{'aB_'[i % 3]}{pid}" if i % 2 else pid.upper() for i, pid in enumerate(pool.id)]
    pool["score"] = 0.5  # every row tied: the order is the id order alone
    engine = tables.create_engine_for(postgres_url)
    tables.ensure_schema(engine)
    frame = pool[["id", "source", "score"]].rename(columns={"id": "pair_id"})
    tables.upsert_scores(engine, frame.assign(ranker_version="rv-streaming-pg"))
    params = SelectionParams(top_k=40, near_dedup=False)
    result = streaming_select(engine, "rv-streaming-pg", params, Lookup(pool), chunk_rows=7)
    engine.dispose()
    assert result.selected["pair_id"].tolist() == expected(pool, params)["pair_id"].tolist()
