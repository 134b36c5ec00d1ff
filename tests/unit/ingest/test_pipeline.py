"""One source end to end through the core: accounting, duplicates, determinism."""

import json
import os

import pandas as pd
import pytest

from scar_dagster import schema as r
from scar_dagster.ingest.landing import scan_landing_zone, source_name_problem
from scar_dagster.ingest.pipeline import ingest_source
from scar_dagster.storage.stores import LocalStore


def _jsonl(rows: list) -> str:
    return "\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n"


@pytest.fixture()
def landing(tmp_path):
    src = tmp_path / "forum"
    (src / "sub").mkdir(parents=True)
    (src / "a.jsonl").write_text(
        _jsonl(
            [
                {"instruction": "Q1", "output": "A1"},
                "{not json",
                {"instruction": "Q2", "output": ""},
                {"instruction": "Q1", "output": "A1"},
                {"instruction": "Q3", "output": None},
            ]
        )
    )
    (src / "sub" / "b.json").write_text(
        json.dumps([{"prompt": "Q1 ", "response": "A1"}, {"prompt": "Q4", "response": "A4"}])
    )
    (src / "empty.jsonl").write_text("")
    (src / "readme.txt").write_text("not data")
    (src / ".hidden.jsonl").write_text(_jsonl([{"prompt": "h", "response": "h"}]))
    return tmp_path


def test_every_record_is_accounted_for(landing):
    result = ingest_source(LocalStore(landing), "forum")
    assert list(result.pairs["instruction"]) == ["Q1", "Q4"]
    assert result.input_records == 9
    assert len(result.pairs) + result.duplicates + result.quarantined == result.input_records
    assert result.duplicates == 2
    assert result.reason_counts() == {
        r.INGEST_DUPLICATE: 2,
        r.INGEST_EMPTY_FILE: 1,
        r.INGEST_EMPTY_TEXT: 1,
        r.INGEST_MALFORMED_JSON: 1,
        r.INGEST_NULL_VALUE: 1,
        r.INGEST_UNSUPPORTED_FILE_TYPE: 1,
    }
    dup = result.dropped[result.dropped["reason"] == r.INGEST_DUPLICATE]
    assert set(dup["duplicate_of"]) == {result.pairs["id"].iloc[0]}
    malformed = result.dropped[result.dropped["reason"] == r.INGEST_MALFORMED_JSON].iloc[0]
    assert (malformed["origin_file"], malformed["origin_line"]) == ("a.jsonl", 2)


def test_ids_and_frames_are_stable_across_runs(landing):
    first = ingest_source(LocalStore(landing), "forum")
    os.utime(landing / "forum" / "a.jsonl")
    second = ingest_source(LocalStore(landing), "forum")
    pd.testing.assert_frame_equal(first.pairs, second.pairs)
    pd.testing.assert_frame_equal(first.dropped, second.dropped)


def test_huge_response_is_quarantined_not_loaded_into_pairs(tmp_path):
    (tmp_path / "big").mkdir()
    rows = [{"prompt": "Q", "response": "word " * 1_000_000}, {"prompt": "Q2", "response": "ok"}]
    (tmp_path / "big" / "x.jsonl").write_text(_jsonl(rows))
    result = ingest_source(LocalStore(tmp_path), "big")
    assert list(result.pairs["instruction"]) == ["Q2"]
    assert result.reason_counts() == {r.INGEST_TOO_LONG: 1}


@pytest.mark.parametrize(
    "name", ["..", "a/b", "has space", "é", "x\u202eevil", ".hidden", "-x", "a..b", "x" * 65, ""]
)
def test_hostile_source_names_are_rejected(name):
    assert source_name_problem(name) is not None


def test_scan_lists_sources_and_rejects_bad_folders(landing):
    (landing / "bad name").mkdir()
    (landing / "bad name" / "x.jsonl").write_text("{}\n")
    (landing / "stray.jsonl").write_text("{}\n")
    scan = scan_landing_zone(LocalStore(landing))
    assert set(scan.files) == {"forum"}
    assert sorted(info.key for info in scan.files["forum"]) == [
        "a.jsonl",
        "empty.jsonl",
        "readme.txt",
        "sub/b.json",
    ]
    assert set(scan.rejected) == {"bad name"}
    assert scan.stray == ["stray.jsonl"]


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 50])
def test_chunked_reading_gives_the_same_rows_as_one_frame(landing, chunk_rows):
    from scar_dagster.ingest.pipeline import SourceReader

    src = landing / "forum"
    (src / "c.jsonl").write_text(
        _jsonl([{"instruction": f"Q{i}", "output": f"A{i}"} for i in range(5, 12)] + ["{bad"])
    )
    whole = ingest_source(LocalStore(landing), "forum")
    reader = SourceReader(LocalStore(landing), "forum", chunk_rows=chunk_rows)
    chunks = list(reader.chunks())
    assert all(len(pairs) <= chunk_rows for pairs, _ in chunks)
    # (empty chunks are skipped: pandas gives their text columns the object dtype)
    pairs = pd.concat([p for p, _ in chunks if len(p)], ignore_index=True)
    dropped = pd.concat([d for _, d in chunks if len(d)], ignore_index=True)
    pd.testing.assert_frame_equal(pairs, whole.pairs)
    pd.testing.assert_frame_equal(dropped, whole.dropped)
    assert reader.input_records == whole.input_records == len(pairs) + len(dropped)
    # a duplicate across chunks still names the first copy's file and line
    duplicate = dropped[dropped["reason"] == r.INGEST_DUPLICATE]
    assert duplicate["detail"].str.startswith("same pair as a.jsonl:1").any()


def test_chunk_rows_must_be_positive(landing):
    from scar_dagster.ingest.pipeline import SourceReader

    with pytest.raises(ValueError, match="chunk_rows"):
        SourceReader(LocalStore(landing), "forum", chunk_rows=0)
