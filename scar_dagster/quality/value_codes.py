"""Columns handed to GX as exact value codes: equality and nulls kept, long texts never hashed.

GX's pandas engine fingerprints every batch with ``pandas.util.hash_pandas_object``, which
turns an Arrow-backed text column into one Python string per row, and its uniqueness metrics
factorize the values again: for a subset of 100k responses that is hundreds of MB of transient
objects for checks that only ask "are these values distinct, are any missing". Replacing each
value by its index in the column's Arrow dictionary (``pyarrow.compute.dictionary_encode``:
equal values get equal codes, nulls stay null) answers those questions identically with one
integer per row. The failing examples GX reports are mapped back to the values.

Only expectations that compare values for equality or test nulls give the same verdict on
codes (``CODABLE_KINDS``); ``check_codable`` refuses any other expectation on a coded column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from scar_dagster.quality.expectations import ExpectationSpec, ValidationOutcome, json_safe

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# expectations whose verdict on a column depends only on which values are equal or null
CODABLE_KINDS = frozenset(
    {
        "ExpectColumnValuesToBeUnique",
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeNull",
        "ExpectCompoundColumnsToBeUnique",
        "ExpectColumnToExist",
    }
)


def _spec_columns(spec: ExpectationSpec) -> list[str]:
    kwargs = spec.kwargs
    return [kwargs["column"]] if "column" in kwargs else list(kwargs.get("column_list") or [])


def check_codable(specs: Sequence[ExpectationSpec], columns: Sequence[str]) -> None:
    """Raise ``ValueError`` when a spec tests a coded column other than by equality or nulls."""
    coded = set(columns)
    for spec in specs:
        touched = sorted(coded.intersection(_spec_columns(spec)))
        if touched and spec.kind not in CODABLE_KINDS:
            raise ValueError(
                f"{spec.kind} on {touched} needs the values, but those columns are checked as "
                f"value codes (only {sorted(CODABLE_KINDS)} can be)"
            )


@dataclass(frozen=True)
class CodedFrame:
    """``frame`` with ``columns`` replaced by nullable Int64 codes; ``values[column][code]``
    is the value a code stands for."""

    frame: pd.DataFrame
    values: Mapping[str, pa.Array]

    def decode(self, outcome: ValidationOutcome) -> ValidationOutcome:
        """``outcome`` with the failing examples of coded columns shown as their values."""
        results = []
        for result in outcome.results:
            observed = result.observed_value
            listed = isinstance(observed, dict) and observed.get("partial_unexpected_list")
            columns = _spec_columns(ExpectationSpec(result.kind, result.kwargs))
            if listed and any(c in self.values for c in columns):
                decoded = [self._example(item, columns) for item in listed]
                observed = {**observed, "partial_unexpected_list": decoded}
                result = replace(result, observed_value=observed)
            results.append(result)
        return replace(outcome, results=results)

    def _example(self, item: Any, columns: list[str]) -> Any:
        if isinstance(item, dict):  # a compound example: {column: value}
            return {k: self._value(k, v) for k, v in item.items()}
        return self._value(columns[0], item)

    def _value(self, column: str, code: Any) -> Any:
        if column not in self.values or code is None:
            return code
        return json_safe(self.values[column][int(code)].as_py())


def coded(df: pd.DataFrame, columns: Sequence[str]) -> CodedFrame:
    """``df`` with each of ``columns`` replaced by its exact value codes (see the module)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    replaced, values = {}, {}
    for column in columns:
        encoded = pc.dictionary_encode(pa.array(df[column], from_pandas=True))
        codes = encoded.indices.cast(pa.int64()).to_numpy(zero_copy_only=False)
        missing = encoded.indices.is_null().to_numpy(zero_copy_only=False)
        replaced[column] = pd.Series(
            pd.arrays.IntegerArray(np.nan_to_num(codes).astype(np.int64), missing), index=df.index
        )
        values[column] = encoded.dictionary
    return CodedFrame(frame=df.assign(**replaced), values=values)
