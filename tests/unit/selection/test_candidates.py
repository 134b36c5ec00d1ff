"""The pool's joins: features and scores looked up by id, table by table."""

from __future__ import annotations

import pandas as pd
import pytest

from scar_dagster.selection.candidates import _looked_up, build_candidates, keys_by_id


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
    tables, start = [], 0
    for size in split:
        tables.append(table.iloc[start : start + size])
        start += size
    ids = pd.Series(["a", "b", "c", "d"], dtype="str")
    got = pd.DataFrame(_looked_up(ids, iter(tables), "id", ["ttr", "reason"]))
    pd.testing.assert_frame_equal(got, _merged(ids, table, ["ttr", "reason"]))


def test_lookup_without_a_match_gives_nulls_of_the_tables_dtypes():
    ids = pd.Series(["a", "b"], dtype="str")
    table = pd.DataFrame({"id": ["z"], "ttr": [0.5], "reason": ["x"]}).astype({"id": "str"})
    got = _looked_up(ids, [table, table.iloc[:0]], "id", ["ttr", "reason"])
    assert got["ttr"].isna().all() and got["ttr"].dtype == "float64" and len(got["ttr"]) == 2
    assert got["reason"].isna().all()
    assert _looked_up(ids, [], "id", ["ttr"])["ttr"].isna().all()


def test_text_free_candidates_are_sorted_by_id_and_unscored_keep_the_input_order():
    pairs = pd.DataFrame(
        {
            "id": ["c", "a", "d", "b"],
            "source": ["s2", "s1", "s1", "s2"],
            "origin_file": ["f", "f", "f", "f"],
            "origin_line": [4, 1, 3, 2],
        }
    )
    metrics = {"degenerate_reason": None, "mtld": 1.0, "perplexity": 2.0, "n_words": 3}
    features = [
        pd.DataFrame({"id": ["a", "b"], "ttr": [0.1, 0.2], **metrics}),
        pd.DataFrame({"id": ["c", "d"], "ttr": [0.3, 0.4], **metrics}),
    ]
    scores = pd.DataFrame({"pair_id": ["a", "b"], "score": [1.0, 2.0]})
    candidates, unscored = build_candidates(pairs, lambda: iter(features), scores, with_texts=False)
    assert candidates["id"].tolist() == ["a", "b"] and candidates["ttr"].tolist() == [0.1, 0.2]
    assert "origin_file" not in candidates.columns and "_row" not in candidates.columns
    assert unscored["pair_id"].tolist() == ["c", "d"]  # the row order of pairs
    keys = keys_by_id(pairs)
    assert keys["id"].tolist() == ["a", "b", "c", "d"]
    # input order: source s1 (a line 1, d line 3), then s2 (b line 2, c line 4)
    assert keys["_order"].tolist() == [0, 2, 3, 1] and keys["_row"].tolist() == [1, 3, 0, 2]
