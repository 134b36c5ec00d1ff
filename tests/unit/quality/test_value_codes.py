"""Value codes give GX's equality and null checks the same verdicts and examples as the texts."""

import pandas as pd
import pytest

from scar_dagster.quality.expectations import (
    run_expectations,
    values_between,
    values_not_null,
    values_unique,
)
from scar_dagster.quality.value_codes import check_codable, coded, frame_batches

TEXTS = ["a long answer", "é ünïcode", "a long answer", None, "other", "é ünïcode"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.Series([f"p{i}" for i in range(6)], dtype="str"),
            "instruction": pd.Series(["q"] * 5 + [None], dtype="str"),
            "response": pd.Series(TEXTS, dtype="str"),
            "n": range(6),
        }
    ).set_axis(range(10, 16))


def _coded(frame: pd.DataFrame, columns: list[str]):
    return coded(frame_batches(frame), list(frame.columns), columns)


def _batches_of(frame: pd.DataFrame, rows: int):
    """A reader of ``frame`` in batches of ``rows`` rows (as a Parquet file by row group)."""
    return lambda columns: (
        frame[list(columns)].iloc[i : i + rows] for i in range(0, len(frame), rows)
    )


SPECS = [
    values_unique("id"),
    values_unique("response"),
    values_not_null("instruction"),
    values_not_null("response"),
]


def test_codes_are_equal_for_equal_values_and_null_for_nulls():
    codes = _coded(_frame(), ["response"])
    column = codes.frame["response"]
    assert str(column.dtype) == "Int64" and list(codes.frame.columns) == list(_frame().columns)
    assert column.isna().tolist() == [t is None for t in TEXTS]
    assert column.iloc[0] == column.iloc[2] and column.iloc[1] == column.iloc[5]
    assert column.iloc[0] != column.iloc[1] != column.iloc[4]
    assert codes.frame["n"].tolist() == list(range(6))  # other columns untouched


def test_gx_gives_the_same_outcome_on_codes_as_on_the_texts():
    frame = _frame()
    plain = run_expectations(frame, SPECS, suite_name="plain")
    codes = _coded(frame, ["id", "instruction", "response"])
    assert all(str(codes.frame[c].dtype) == "Int64" for c in ("id", "instruction", "response"))
    on_codes = codes.decode(run_expectations(codes.frame, SPECS, suite_name="plain"))
    assert not plain.success  # duplicate responses, a null instruction and response
    assert [r.success for r in plain.results] == [True, False, False, False]
    assert on_codes.to_dict() == plain.to_dict()  # verdicts, counts and decoded examples
    examples = on_codes.results[1].observed_value["partial_unexpected_list"]
    assert sorted(examples) == sorted(["a long answer", "a long answer", "é ünïcode", "é ünïcode"])


def test_an_expectation_that_needs_the_values_is_refused_on_a_coded_column():
    check_codable(SPECS, ["id", "response"])
    check_codable([values_between("n", min_value=0, max_value=1)], ["response"])  # not coded
    with pytest.raises(ValueError, match="ExpectColumnValuesToBeBetween on \\['response'\\]"):
        check_codable([values_between("response", min_value=0, max_value=1)], ["response"])


@pytest.mark.parametrize("rows", [1, 2, 4])
def test_batches_give_the_codes_and_examples_of_one_frame(rows):
    frame = _frame()
    whole = _coded(frame, ["id", "response"])
    batched = coded(_batches_of(frame, rows), list(frame.columns), ["id", "response"])
    pd.testing.assert_frame_equal(batched.frame, whole.frame)
    outcome = run_expectations(batched.frame, SPECS[:2], suite_name="batched")
    examples = batched.decode(outcome).results[1].observed_value["partial_unexpected_list"]
    assert sorted(examples) == sorted(["a long answer", "a long answer", "é ünïcode", "é ünïcode"])


def test_a_string_and_a_number_with_the_same_text_get_different_codes():
    frame = pd.DataFrame({"v": pd.Series(["1", 1, None, 1.0], dtype=object)})
    codes = _coded(frame, ["v"]).frame["v"]
    assert codes.iloc[0] != codes.iloc[1] and codes.iloc[1] != codes.iloc[3]
    assert codes.isna().tolist() == [False, False, True, False]


def test_no_batch_gives_an_empty_coded_frame():
    codes = coded(lambda columns: iter(()), ["id", "n"], ["id"])
    assert list(codes.frame.columns) == ["id", "n"] and len(codes.frame) == 0
    assert str(codes.frame["id"].dtype) == "Int64"
