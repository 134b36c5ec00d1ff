"""Subset export: Alpaca/ShareGPT JSONL and Parquet, written once per version."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from scar_dagster.selection.export import (
    FILES,
    SUCCESS_MARKER,
    export_report,
    export_subset,
    subset_table,
)
from scar_dagster.storage.stores import LocalStore


def decisions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["b", "a", "c"],
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


def _big_subset(rows: int) -> pd.DataFrame:
    ids = [f"p{i:04d}" for i in range(rows)]
    return pd.DataFrame(
        {
            "id": ids,
            "source": ["s1" if i % 3 else "s2" for i in range(rows)],
            "instruction": [f"Question {i}: why?" for i in range(rows)],
            "response": [f"Because « {i} »." for i in range(rows)],
            "score": [1.0 - i / rows for i in range(rows)],
            "rank": list(range(1, rows + 1)),
        }
    )


def _files(store: LocalStore, version: str) -> dict[str, bytes]:
    return {name: store.read_bytes(f"subsets/{version}/{name}") for name in FILES.values()}


@pytest.mark.parametrize("sizes", [(25,), (1, 24), (7, 0, 11, 7), (3,) * 8 + (1,)])
def test_chunks_in_rank_order_give_the_bytes_of_the_whole_frame(tmp_path, monkeypatch, sizes):
    """Row groups are a fixed size whatever the chunks: the files depend only on the subset."""
    from scar_dagster.selection.export import SubsetFiles

    monkeypatch.setattr(SubsetFiles, "ROW_GROUP_ROWS", 10)
    subset, store = _big_subset(25), LocalStore(tmp_path)
    export_subset(subset, store, "subsets", "whole")
    bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    chunks = (subset.iloc[a:b] for a, b in zip(bounds, bounds[1:], strict=False))
    result = export_subset(chunks, store, "subsets", "chunked")
    assert result.written and result.n_rows == 25
    assert _files(store, "chunked") == _files(store, "whole")
    parquet = tmp_path / "subsets" / "chunked" / FILES["parquet"]
    import pyarrow.parquet as pq

    assert pq.ParquetFile(parquet).num_row_groups == 3
    marker = json.loads(store.read_bytes(f"subsets/chunked/{SUCCESS_MARKER}"))
    assert marker["n_rows"] == 25
    assert {n: f["bytes"] for n, f in marker["files"].items()} == {
        n: len(b) for n, b in _files(store, "chunked").items()
    }


def test_chunks_out_of_rank_order_are_refused_and_nothing_is_marked(tmp_path) -> None:
    subset, store = _big_subset(6), LocalStore(tmp_path)
    with pytest.raises(ValueError, match="rank order"):
        export_subset([subset.iloc[3:], subset.iloc[:3]], store, "subsets", "v1")
    assert not store.exists(f"subsets/v1/{SUCCESS_MARKER}")


def test_a_complete_version_reads_no_chunk(tmp_path) -> None:
    store = LocalStore(tmp_path)
    export_subset(_big_subset(4), store, "subsets", "v1")

    def chunks():
        raise AssertionError("a complete version must not read its chunks")
        yield

    result = export_subset(chunks(), store, "subsets", "v1")
    assert not result.written and result.n_rows == 4


def test_an_empty_subset_gets_empty_files_with_the_columns(tmp_path) -> None:
    store = LocalStore(tmp_path)
    result = export_subset(iter([]), store, "subsets", "v0")
    assert result.written and result.n_rows == 0
    files = _files(store, "v0")
    assert files[FILES["alpaca"]] == b"" and files[FILES["sharegpt"]] == b""
    frame = pd.read_parquet(tmp_path / "subsets" / "v0" / FILES["parquet"])
    assert list(frame.columns) == ["id", "source", "instruction", "response", "score", "rank"]
    assert len(frame) == 0


def test_the_report_is_written_with_a_new_export_or_when_missing(tmp_path) -> None:
    store = LocalStore(tmp_path)
    export = export_subset(subset_table(decisions(), pairs()), store, "subsets", "v1")
    key = export_report(store, "subsets", "v1", "# one\n", b"png1", export)
    assert key == "subsets/v1/report.md" and store.read_bytes(key) == b"# one\n"
    again = export_subset(subset_table(decisions(), pairs()), store, "subsets", "v1")
    assert not again.written
    export_report(store, "subsets", "v1", "# two\n", b"png2", again)  # kept: the first report
    assert store.read_bytes(key) == b"# one\n"
    (tmp_path / "subsets" / "v1" / "report.md").unlink()
    export_report(store, "subsets", "v1", "# three\n", b"png3", again)  # missing: written
    assert store.read_bytes(key) == b"# three\n"
    assert store.read_bytes("subsets/v1/scores.png") == b"png3"
