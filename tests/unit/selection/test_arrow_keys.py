"""arrow_keys agrees with pandas' lookups, duplicated and stable sorts on string keys."""

import numpy as np
import pandas as pd
import pytest

from scar_dagster.selection.arrow_keys import (
    duplicated,
    row_positions,
    sort_order,
    without_repeats,
)


def test_row_positions_give_the_first_occurrence_or_minus_one():
    keys = pd.Series(["b", "a", "z", None], dtype="str")
    among = pd.Series(["a", "b", "a", "b"], dtype=object)
    assert row_positions(keys, among).tolist() == [1, 0, -1, -1]
    assert row_positions(keys, pd.Series([], dtype="str")).tolist() == [-1] * 4
    assert row_positions(keys.iloc[:0], among).tolist() == []


@pytest.mark.parametrize("dtype", ["str", object])
def test_duplicated_same_as_pandas(dtype):
    keys = pd.Series(["b", "a", "b", None, "é", None, "a", "e\u0301"], dtype=dtype)
    assert duplicated(keys).tolist() == keys.duplicated().tolist()
    assert duplicated(keys.iloc[:0]).tolist() == []


def test_sort_order_is_the_stable_mergesort_of_pandas():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "source": pd.Series(rng.choice(["b", "a", "é", "Z"], 200), dtype="str"),
            "file": pd.Series(rng.choice(["x.jsonl", "y.json", None], 200), dtype="str"),
            "line": rng.integers(0, 5, 200),  # many ties: stability decides their order
        }
    )
    expected = frame.sort_values(["source", "file", "line"], kind="mergesort").index
    assert sort_order(frame, ["source", "file", "line"]).tolist() == expected.tolist()
    assert sort_order(frame.iloc[:0], ["source"]).tolist() == []


def test_without_repeats_is_drop_duplicates_and_no_copy_without_repeats():
    frame = pd.DataFrame({"id": pd.Series(["b", "a", "b", "c"], dtype="str"), "n": range(4)})
    pd.testing.assert_frame_equal(without_repeats(frame, "id"), frame.drop_duplicates("id"))
    series = frame["id"]
    pd.testing.assert_series_equal(without_repeats(series), series.drop_duplicates())
    unique = frame.iloc[1:]
    assert without_repeats(unique, "id") is unique


def test_repeats_in_sorted_are_pandas_duplicated_of_sorted_keys():
    from scar_dagster.selection.arrow_keys import repeats_in_sorted

    keys = pd.Series(sorted(["b", "a", "c", "a", "b", "b", "d"]), dtype="str")
    assert repeats_in_sorted(keys).tolist() == keys.duplicated().tolist()
    assert repeats_in_sorted(keys.iloc[:1]).tolist() == [False]
    assert repeats_in_sorted(keys.iloc[:0]).tolist() == []
