"""Columns handed to GX as value codes: equality and nulls kept, long texts never hashed.

GX's pandas engine fingerprints every batch with ``pandas.util.hash_pandas_object``, which
turns an Arrow-backed text column into one Python string per row, and its uniqueness metrics
factorize the values again: for a subset of 100k responses that is hundreds of MB of transient
objects for checks that only ask "are these values distinct, are any missing". Replacing each
value by a code answers those questions identically with one integer per row. The frame is
read a batch at a time (a Parquet row group, say), each value reduced to its 16-byte BLAKE2b
digest, and the codes are the ranks of the distinct digests: equal values get equal codes,
nulls stay null, and distinct values share a code only if their 128-bit digests collide (odds
below 1e-26 for a million values). Memory: one batch of values plus 16 bytes per row. The
failing examples GX reports are mapped back to the values by a second read of the rows needed.

Only expectations that compare values for equality or test nulls give the same verdict on
codes (``CODABLE_KINDS``); ``check_codable`` refuses any other expectation on a coded column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from scar_dagster.quality.expectations import ExpectationSpec, ValidationOutcome, json_safe

if TYPE_CHECKING:
    import pandas as pd

# the rows of the given columns, a batch at a time, in the same order on every call
Batches = Callable[[Sequence[str]], Iterable["pd.DataFrame"]]

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
    """The checked frame with the coded columns as nullable Int64 codes; ``first_rows[column]
    [code]`` is the row where a code's value first appears (re-read by ``decode``)."""

    frame: pd.DataFrame
    first_rows: Mapping[str, np.ndarray]
    read: Batches

    def decode(self, outcome: ValidationOutcome) -> ValidationOutcome:
        """``outcome`` with the failing examples of coded columns shown as their values."""
        examples = dict(self._examples(outcome))
        wanted: dict[str, set[int]] = {}
        for columns, listed in examples.values():
            for item in listed:
                pairs = item.items() if isinstance(item, dict) else [(columns[0], item)]
                for column, code in pairs:
                    if column in self.first_rows and code is not None:
                        wanted.setdefault(column, set()).add(int(code))
        values = self._values(wanted)
        results = list(outcome.results)
        for index, (columns, listed) in examples.items():
            observed = {
                **results[index].observed_value,
                "partial_unexpected_list": [_decoded(item, columns, values) for item in listed],
            }
            results[index] = replace(results[index], observed_value=observed)
        return replace(outcome, results=results)

    def _examples(self, outcome: ValidationOutcome) -> Iterable[tuple[int, tuple[list[str], list]]]:
        """``(result index, (its columns, its failing examples))`` of coded columns."""
        for index, result in enumerate(outcome.results):
            observed = result.observed_value
            listed = isinstance(observed, dict) and observed.get("partial_unexpected_list")
            columns = _spec_columns(ExpectationSpec(result.kind, result.kwargs))
            if listed and any(c in self.first_rows for c in columns):
                yield index, (columns, listed)

    def _values(self, wanted: Mapping[str, set[int]]) -> dict[str, dict[int, Any]]:
        """``{column: {code: value}}`` for the wanted codes, in one read of those columns."""
        if not wanted:
            return {}
        rows = {
            c: {int(self.first_rows[c][code]): code for code in codes}
            for c, codes in wanted.items()
        }
        found: dict[str, dict[int, Any]] = {c: {} for c in wanted}
        start = 0
        for batch in self.read(list(wanted)):
            for column, at in rows.items():
                for row in [r for r in at if start <= r < start + len(batch)]:
                    found[column][at[row]] = json_safe(batch[column].iloc[row - start])
            start += len(batch)
        return found


def _decoded(item: Any, columns: list[str], values: Mapping[str, Mapping[int, Any]]) -> Any:
    def value(column: str, code: Any) -> Any:
        if column not in values or code is None:
            return code
        return values[column].get(int(code), code)

    if isinstance(item, dict):  # a compound example: {column: value}
        return {k: value(k, v) for k, v in item.items()}
    return value(columns[0], item)


def _digest(value: Any) -> bytes:
    """16 bytes naming ``value`` and its type (the string "1" and the number 1 differ)."""
    data = (
        value.encode("utf-8", "surrogatepass") if isinstance(value, str) else repr(value).encode()
    )
    prefix = b"s" if isinstance(value, str) else type(value).__name__.encode()
    return hashlib.blake2b(prefix + b"\0" + data, digest_size=16).digest()


def coded(read: Batches, columns: Sequence[str], coded_columns: Sequence[str]) -> CodedFrame:
    """The rows of ``columns`` (read by ``read``, batch by batch) with each of
    ``coded_columns`` replaced by its value codes (see the module)."""
    import pandas as pd

    codable = [c for c in columns if c in set(coded_columns)]
    plain: list[pd.DataFrame] = []
    digests: dict[str, list[np.ndarray]] = {c: [] for c in codable}
    missing: dict[str, list[np.ndarray]] = {c: [] for c in codable}
    for batch in read(list(columns)):
        plain.append(batch[[c for c in columns if c not in codable]].reset_index(drop=True))
        for column in codable:
            nulls = batch[column].isna().to_numpy(dtype=bool)
            values = batch[column].tolist()
            hashed = [b"" if null else _digest(v) for v, null in zip(values, nulls, strict=True)]
            digests[column].append(np.array(hashed, dtype="S16"))
            missing[column].append(nulls)
    frame = pd.concat(plain, ignore_index=True) if plain else pd.DataFrame({c: [] for c in columns})
    first_rows = {}
    for column in codable:  # an empty first array: no batch at all gives no rows
        hashed = np.concatenate([np.zeros(0, dtype="S16"), *digests.pop(column)])
        nulls = np.concatenate([np.zeros(0, dtype=bool), *missing.pop(column)])
        _, first, codes = np.unique(hashed, return_index=True, return_inverse=True)
        frame[column] = pd.arrays.IntegerArray(codes.reshape(-1).astype(np.int64), nulls)
        first_rows[column] = first
    return CodedFrame(frame=frame[list(columns)], first_rows=first_rows, read=read)


def frame_batches(df: pd.DataFrame) -> Batches:
    """``Batches`` over a frame in memory: one batch."""
    return lambda columns: [df[list(columns)]]
