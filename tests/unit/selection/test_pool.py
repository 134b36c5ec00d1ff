"""The one pool builder: keys of the first copy of each id, features and scores joined by id."""

from __future__ import annotations

import pandas as pd
import pytest

from scar_dagster.selection.outside_pool import cross_source_duplicates
from scar_dagster.selection.pool import (
    _looked_up,
    input_order,
    pool_keys,
    score_tables,
    with_features,
    with_scores,
)
from scar_dagster.storage import tables


def _merged(ids: pd.Series, table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """What a left merge on the first row of each key gives."""
    first = table.drop_duplicates("id")
    return ids.to_frame("id").merge(first, on="id", how="left")[columns]


@pytest.mark.parametrize("split", [[6], [2, 4], [1, 1, 1, 3], [3, 0, 3]])
def test_lookup_over_tables_is_the_merge_of_their_concatenation(split):
    table = pd.DataFrame(
        {
            "id": ["b", "x", "a", "b", "d", "a"],  # b and a repeat: the first row wins
            "ttr": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            "reason": [None, "empty", None, "short", None, "dup"],
        }
    ).astype({"id": "str", "reason": "str"})
    parts, start = [], 0
    for size in split:
        parts.append(table.iloc[start : start + size])
        start += size
    ids = pd.Series(["a", "b", "c", "d"], dtype="str")
    got = pd.DataFrame(_looked_up(ids, iter(parts), "id", ["ttr", "reason"]))
    pd.testing.assert_frame_equal(got, _merged(ids, table, ["ttr", "reason"]))


def test_lookup_without_a_match_gives_nulls_of_the_tables_dtypes():
    ids = pd.Series(["a", "b"], dtype="str")
    table = pd.DataFrame({"id": ["z"], "ttr": [0.5], "reason": ["x"]}).astype({"id": "str"})
    got = _looked_up(ids, [table, table.iloc[:0]], "id", ["ttr", "reason"])
    assert got["ttr"].isna().all() and got["ttr"].dtype == "float64" and len(got["ttr"]) == 2
    assert got["reason"].isna().all()
    assert _looked_up(ids, [], "id", ["ttr"])["ttr"].isna().all()


PAIRS = pd.DataFrame(
    {
        "id": ["c", "a", "d", "b", "a"],
        "source": ["s2", "s1", "s1", "s2", "s3"],  # a again in a later source: a copy
        "origin_file": ["f", "f", "f", "f", "g"],
        "origin_line": [4, 1, 3, 2, 0],
    }
)


def test_the_pool_is_sorted_by_id_and_unscored_pairs_keep_the_input_order():
    kept, copies = cross_source_duplicates(PAIRS)
    keys = pool_keys(PAIRS, kept)
    assert keys["id"].tolist() == ["a", "b", "c", "d"]
    # input order: source s1 (a line 1, d line 3), then s2 (b line 2, c line 4)
    assert keys["_order"].tolist() == [0, 2, 3, 1] and keys["_row"].tolist() == [1, 3, 0, 2]
    assert copies[["id", "related_id"]].values.tolist() == [["duplicate:s3:a", "a"]]
    metrics = {"degenerate_reason": None, "mtld": 1.0, "perplexity": 2.0, "n_words": 3}
    features = [
        pd.DataFrame({"id": ["a", "b"], "ttr": [0.1, 0.2], **metrics}),
        pd.DataFrame({"id": ["c", "d"], "ttr": [0.3, 0.4], **metrics}),
    ]
    scores = pd.DataFrame({"id": ["a", "b"], "score": [1.0, 2.0]})
    pool, unscored = with_scores(with_features(keys, iter(features)), [scores])
    assert pool["id"].tolist() == ["a", "b"] and pool["ttr"].tolist() == [0.1, 0.2]
    assert list(pool.columns) == [
        "id",
        "source",
        "score",
        "ttr",
        "mtld",
        "perplexity",
        "n_words",
        "_degenerate",
        "_order",
    ]
    assert unscored["id"].tolist() == ["c", "d"]  # the row order of the pairs
    assert set(unscored["reason"]) == {"select_unscored"}


def test_cross_source_duplicates_keep_the_first_source_and_the_row_order():
    pairs = pd.DataFrame(
        {"id": ["x", "y", "x", "z"], "source": ["b", "b", "a", "a"], "response": list("1234")}
    )
    kept, copies = cross_source_duplicates(pairs)
    assert kept.tolist() == [1, 2, 3]  # y of b, x of a (a sorts first), z of a
    assert copies[["id", "related_id"]].values.tolist() == [["duplicate:b:x", "x"]]
    same, none = cross_source_duplicates(pairs.iloc[[1, 2, 3]])
    assert same.tolist() == [0, 1, 2] and none.empty


def test_input_order_is_source_file_line_else_row_order() -> None:
    frame = pd.DataFrame(
        {
            "source": ["b", "a", "a", "a"],
            "origin_file": ["f", "g", "f", "f"],
            "origin_line": [1, 0, 10, 9],
        }
    )
    assert input_order(frame).tolist() == [3, 2, 1, 0]
    assert input_order(frame[["source"]]).tolist() == [0, 1, 2, 3]


def _scores(engine, n: int, version: str = "rv") -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "id": [f"{'aB_'[i % 3]}{i:04d}" for i in range(n)],
            "source": "s",
            "score": [round((i * 7919) % 100 / 10, 1) for i in range(n)],
            "ranker_version": version,
        }
    )
    tables.upsert_scores(engine, frame)
    return frame


def _read_back(engine, **options) -> list[pd.DataFrame]:
    return list(score_tables(engine, "rv", **options))


def test_score_tables_read_every_score_of_a_version_in_tables(engine):
    written = _scores(engine, 45)
    _scores(engine, 5, version="other")
    parts = _read_back(engine, chunk_rows=4, table_rows=10)
    assert [len(part) for part in parts] == [12, 12, 12, 9]  # whole chunks per table
    got = pd.concat(parts, ignore_index=True).sort_values("id", ignore_index=True)
    expected = written[["id", "score"]].sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(got, expected.astype({"id": "str"}))
    assert list(score_tables(engine, "no-such-ranker")) == []
    with pytest.raises(ValueError, match="chunk_rows"):
        _read_back(engine, chunk_rows=0)


@pytest.mark.slow
def test_score_tables_stream_from_postgres(postgres_url):
    engine = tables.create_engine_for(postgres_url)
    tables.ensure_schema(engine)
    try:
        written = _scores(engine, 30)
        got = pd.concat(_read_back(engine, chunk_rows=7, table_rows=8), ignore_index=True)
    finally:
        engine.dispose()
    expected = written[["id", "score"]].sort_values("id", ignore_index=True)
    got = got.sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(got, expected.astype({"id": "str"}))
