"""Subset export: Alpaca/ShareGPT JSONL and Parquet, written once per version."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from scar_dagster.selection.export import (
    FILES,
    SUCCESS_MARKER,
    export_subset,
    subset_table,
)
from scar_dagster.storage.stores import LocalStore


def decisions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pair_id": ["b", "a", "c"],
            "source": ["s1", "s2", "s1"],
            "selected": [True, True, False],
            "reason": ["selected", "selected", "select_below_cutoff"],
            "rank": pd.array([2, 1, 3], dtype="Int64"),
            "score": [0.5, 0.9, 0.1],
            "related_id": [None, None, None],
        }
    )


def pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "instruction": ["Say hi in French.", "Sum 2 and 2.", "Unused"],
            "response": ["Salut ! « bonjour »", "4", "x"],
        }
    )


def test_subset_table_orders_by_rank_and_checks_texts() -> None:
    table = subset_table(decisions(), pairs())
    assert table["id"].tolist() == ["a", "b"]
    assert table["rank"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="no text"):
        subset_table(decisions(), pairs().iloc[:1])


def test_export_writes_all_formats(tmp_path) -> None:
    store = LocalStore(tmp_path)
    subset = subset_table(decisions(), pairs())
    result = export_subset(subset, store, "subsets", "v1")
    assert result.written and result.n_rows == 2
    assert result.directory == str(tmp_path / "subsets" / "v1")
    lines = store.read_bytes(result.files["alpaca"]).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"instruction": "Say hi in French.", "input": "", "output": "Salut ! « bonjour »"},
        {"instruction": "Sum 2 and 2.", "input": "", "output": "4"},
    ]
    share = [json.loads(line) for line in store.read_bytes(result.files["sharegpt"]).splitlines()]
    assert share[0] == {
        "id": "a",
        "conversations": [
            {"from": "human", "value": "Say hi in French."},
            {"from": "gpt", "value": "Salut ! « bonjour »"},
        ],
    }
    back = pd.read_parquet(tmp_path / result.files["parquet"])
    pd.testing.assert_frame_equal(back, subset, check_dtype=False)
    manifest = json.loads(store.read_bytes(f"subsets/v1/{SUCCESS_MARKER}"))
    assert manifest["n_rows"] == 2 and set(manifest["files"]) == set(FILES.values())
    assert sorted(p.name for p in (tmp_path / "subsets" / "v1").iterdir()) == sorted(
        [*FILES.values(), SUCCESS_MARKER]
    )  # no temp files left behind


def test_reexport_is_a_no_op_and_versions_do_not_collide(tmp_path) -> None:
    store = LocalStore(tmp_path)
    subset = subset_table(decisions(), pairs())
    first = export_subset(subset, store, "subsets", "v1")
    stamps = {f: (tmp_path / k).stat().st_mtime_ns for f, k in first.files.items()}
    again = export_subset(subset.iloc[:1], store, "subsets", "v1")
    assert not again.written and again.n_rows == 2
    assert {f: (tmp_path / k).stat().st_mtime_ns for f, k in again.files.items()} == stamps
    other = export_subset(subset, store, "subsets", "v2")
    assert other.written and other.directory != first.directory
    for fmt in FILES:  # deterministic bytes for the same subset
        assert store.read_bytes(other.files[fmt]) == store.read_bytes(first.files[fmt])


def test_bad_version_names_are_refused(tmp_path) -> None:
    subset = subset_table(decisions(), pairs())
    for bad in ("../escape", "", ".hidden", "a/b"):
        with pytest.raises(ValueError, match="subset_version"):
            export_subset(subset, LocalStore(tmp_path), "subsets", bad)


def test_crashed_attempt_without_marker_is_rewritten(tmp_path) -> None:
    store = LocalStore(tmp_path)
    subset = subset_table(decisions(), pairs())
    result = export_subset(subset, store, "subsets", "v1")
    store.write_bytes(f"subsets/v2/{FILES['alpaca']}", b"half")  # a crashed earlier attempt
    redone = export_subset(subset, store, "subsets", "v2")
    assert redone.written
    assert store.read_bytes(redone.files["alpaca"]) == store.read_bytes(result.files["alpaca"])
