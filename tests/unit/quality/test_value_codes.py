"""Value codes give GX's equality and null checks the same verdicts and examples as the texts."""

import pandas as pd
import pytest

from scar_dagster.quality.expectations import (
    compound_unique,
    run_expectations,
    values_between,
    values_not_null,
    values_unique,
)
from scar_dagster.quality.value_codes import check_codable, coded

TEXTS = ["a long answer", "é ünïcode", "a long answer", None, "other", "é ünïcode"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.Series([f"p{i}" for i in range(6)], dtype="str"),
            "instruction": pd.Series(["q"] * 5 + [None], dtype="str"),
            "response": pd.Series(TEXTS, dtype="str"),
            "n": range(6),
        }
    ).set_axis(range(10, 16))  # the codes keep the frame's index


SPECS = [
    values_unique("id"),
    values_unique("response"),
    values_not_null("instruction"),
    values_not_null("response"),
    compound_unique(["instruction", "response"]),
]


def test_codes_are_equal_for_equal_values_and_null_for_nulls():
    codes = coded(_frame(), ["response"])
    column = codes.frame["response"]
    assert str(column.dtype) == "Int64" and column.index.tolist() == list(range(10, 16))
    assert column.isna().tolist() == [t is None for t in TEXTS]
    assert column.iloc[0] == column.iloc[2] and column.iloc[1] == column.iloc[5]
    assert column.iloc[0] != column.iloc[1] != column.iloc[4]
    assert codes.frame["n"].tolist() == list(range(6))  # other columns untouched


def test_gx_gives_the_same_outcome_on_codes_as_on_the_texts():
    frame = _frame()
    plain = run_expectations(frame, SPECS, suite_name="plain")
    codes = coded(frame, ["id", "instruction", "response"])
    assert all(str(codes.frame[c].dtype) == "Int64" for c in ("id", "instruction", "response"))
    on_codes = codes.decode(run_expectations(codes.frame, SPECS, suite_name="plain"))
    assert not plain.success  # duplicate responses, a null instruction and response
    assert [r.success for r in plain.results] == [True, False, False, False, False]
    assert on_codes.to_dict() == plain.to_dict()  # verdicts, counts and decoded examples
    examples = on_codes.results[1].observed_value["partial_unexpected_list"]
    assert sorted(examples) == sorted(["a long answer", "a long answer", "é ünïcode", "é ünïcode"])


def test_an_expectation_that_needs_the_values_is_refused_on_a_coded_column():
    check_codable(SPECS, ["id", "response"])
    check_codable([values_between("n", min_value=0, max_value=1)], ["response"])  # not coded
    with pytest.raises(ValueError, match="ExpectColumnValuesToBeBetween on \\['response'\\]"):
        check_codable([values_between("response", min_value=0, max_value=1)], ["response"])
