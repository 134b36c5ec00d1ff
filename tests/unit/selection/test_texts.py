"""ChunkedTexts, frame_lookup and SpooledTexts: texts read one chunk at a time."""

from __future__ import annotations

import pandas as pd
import pytest

from scar_dagster.selection.filters import PairText
from scar_dagster.selection.texts import ChunkedTexts, SpooledTexts, frame_lookup


def _lookup(calls: list[list[str]]):
    def lookup(ids):
        calls.append(list(ids))
        return {i: PairText(f"q{i}", f"a{i}") for i in ids if i != "missing"}

    return lookup


def test_front_to_back_reads_fetch_one_chunk_at_a_time() -> None:
    calls: list[list[str]] = []
    texts = ChunkedTexts([f"{i}" for i in range(10)], _lookup(calls), chunk_rows=4)
    assert [t.response for t in texts] == [f"a{i}" for i in range(10)]
    assert calls == [["0", "1", "2", "3"], ["4", "5", "6", "7"], ["8", "9"]]
    assert texts[2].instruction == "q2"  # outside the current chunk: that id alone
    assert calls[-1] == ["2"] and texts.lookups == 4
    assert texts[-1].response == "a9" and len(texts[1:3]) == 2


def test_an_id_without_texts_is_an_error() -> None:
    texts = ChunkedTexts(["a", "missing"], _lookup([]), chunk_rows=8)
    with pytest.raises(KeyError, match="no texts for 1 pair ids"):
        texts[0]
    with pytest.raises(IndexError):
        ChunkedTexts(["a"], _lookup([]))[1]
    with pytest.raises(ValueError, match="chunk_rows"):
        ChunkedTexts(["a"], _lookup([]), chunk_rows=0)


def test_frame_lookup_returns_known_ids_with_blank_missing_texts() -> None:
    frame = pd.DataFrame({"id": ["x", "y"], "instruction": ["Q", None], "response": ["A", "B"]})
    found = frame_lookup(frame)(["y", "z", "x"])
    assert found == {"y": PairText("", "B"), "x": PairText("Q", "A")}


def test_frame_lookup_over_chosen_rows_and_unique_ids() -> None:
    frame = pd.DataFrame({"id": ["x", "x", "y"], "instruction": "Q", "response": list("123")})
    found = frame_lookup(frame, rows=[2, 1])(["x", "y"])
    assert found == {"x": PairText("Q", "2"), "y": PairText("Q", "3")}
    with pytest.raises(ValueError, match="unique ids"):
        frame_lookup(frame)


def test_spooled_texts_keep_the_chosen_rows_of_every_batch() -> None:
    batches = [
        pd.DataFrame({"id": ["a", "b"], "instruction": "Q", "response": ["1", "2"]}),
        pd.DataFrame({"id": ["a", "c", "d"], "instruction": "Q", "response": ["3", None, "5"]}),
    ]
    spool = SpooledTexts(iter(batches), rows=[1, 2, 3])
    try:
        assert spool.rows == 3
        assert spool(["a", "b", "c", "zz"]) == {
            "a": PairText("Q", "3"),
            "b": PairText("Q", "2"),
            "c": PairText("Q", ""),
        }
    finally:
        spool.close()
    first = SpooledTexts(iter(batches))  # without rows: the first row of an id wins
    try:
        assert first(["a", "d"]) == {"a": PairText("Q", "1"), "d": PairText("Q", "5")}
    finally:
        first.close()
