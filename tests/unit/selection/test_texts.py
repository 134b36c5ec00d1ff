"""ChunkedTexts and frame_lookup: texts read one chunk at a time; input order."""

from __future__ import annotations

import pandas as pd
import pytest

from scar_dagster.selection.texts import ChunkedTexts, PairText, frame_lookup, input_order


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
