"""Hugging Face ``save_to_disk`` folders and Arrow IPC files, read with pyarrow alone.

The fixtures write the exact layout ``datasets`` (``Dataset.save_to_disk``) writes: shards
``data-0000i-of-0000N.arrow`` as Arrow IPC *streams* whose schema carries a ``huggingface``
metadata entry, ``state.json`` (``_data_files``, ``_fingerprint``, ``_format_*``,
``_output_all_columns``, ``_split``; sorted keys, indent 2) and ``dataset_info.json``; a
``DatasetDict`` adds ``dataset_dict.json`` with ``{"splits": [...]}`` above one folder per split.
"""

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pytest

from scar_dagster import schema as r
from scar_dagster.ingest.landing import HUB_METADATA, list_source
from scar_dagster.ingest.pipeline import ingest_source
from scar_dagster.ingest.readers import read_records
from scar_dagster.storage.stores import LocalStore

TALKS = [
    {"conversations": [{"from": "human", "value": f"Q{i}"}, {"from": "gpt", "value": f"A{i}"}]}
    for i in range(5)
]
FEATURES = {
    "conversations": {
        "feature": {
            "from": {"dtype": "string", "_type": "Value"},
            "value": {"dtype": "string", "_type": "Value"},
        },
        "_type": "List",
    }
}


def _stream_bytes(rows: list[dict], batch_rows: int = 2) -> bytes:
    table = pa.Table.from_pylist(rows)
    meta = {"info": {"features": FEATURES}, "fingerprint": "0123456789abcdef"}
    table = table.replace_schema_metadata({"huggingface": json.dumps(meta)})
    sink = io.BytesIO()
    with ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=batch_rows):
            writer.write_batch(batch)
    return sink.getvalue()


def save_to_disk(folder: Path, rows: list[dict], shards: int = 2) -> list[str]:
    """``Dataset.save_to_disk(folder, num_shards=shards)``'s files, written with pyarrow."""
    folder.mkdir(parents=True)
    names = [f"data-{i:05d}-of-{shards:05d}.arrow" for i in range(shards)]
    per = -(-len(rows) // shards)
    for i, name in enumerate(names):
        (folder / name).write_bytes(_stream_bytes(rows[i * per : (i + 1) * per]))
    state = {
        "_data_files": [{"filename": name} for name in names],
        "_fingerprint": "0123456789abcdef",
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    (folder / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
    info = {
        "builder_name": None,
        "citation": "",
        "config_name": None,
        "dataset_name": None,
        "dataset_size": None,
        "description": "",
        "download_checksums": None,
        "download_size": None,
        "features": FEATURES,
        "homepage": "",
        "license": "",
        "size_in_bytes": None,
        "splits": None,
        "supervised_keys": None,
        "version": None,
    }
    (folder / "dataset_info.json").write_text(json.dumps(info, indent=2))
    return names


def test_a_save_to_disk_folder_is_read_shard_by_shard_its_json_files_are_not_data(tmp_path):
    names = save_to_disk(tmp_path / "hub", TALKS)
    listing = list_source(LocalStore(tmp_path), "hub")
    assert [info.key for info in listing.files] == names
    assert listing.ignored == {"dataset_info.json": HUB_METADATA, "state.json": HUB_METADATA}
    assert listing.dataset_folders == [""]
    result = ingest_source(LocalStore(tmp_path), "hub")
    assert result.pairs["instruction"].tolist() == [f"Q{i}" for i in range(5)]
    assert result.pairs[["origin_file", "origin_line"]].values.tolist() == [
        [names[0], 1],
        [names[0], 2],
        [names[0], 3],
        [names[1], 1],
        [names[1], 2],
    ]
    assert result.input_rows == 5 and len(result.dropped) == 0
    assert result.read.stats.file_layouts() == {
        names[0]: {"sharegpt": 3},
        names[1]: {"sharegpt": 2},
    }


def test_a_dataset_dict_reads_every_split(tmp_path):
    save_to_disk(tmp_path / "hub" / "train", TALKS[:3], shards=1)
    save_to_disk(tmp_path / "hub" / "test", TALKS[3:], shards=1)
    (tmp_path / "hub" / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    listing = list_source(LocalStore(tmp_path), "hub")
    assert sorted(listing.ignored) == [
        "dataset_dict.json",
        "test/dataset_info.json",
        "test/state.json",
        "train/dataset_info.json",
        "train/state.json",
    ]
    result = ingest_source(LocalStore(tmp_path), "hub")
    assert sorted(result.pairs["instruction"]) == [f"Q{i}" for i in range(5)]
    assert set(result.pairs["origin_file"]) == {
        "test/data-00000-of-00001.arrow",
        "train/data-00000-of-00001.arrow",
    }


def test_a_shard_state_json_lists_but_the_folder_lacks_is_one_row(tmp_path):
    names = save_to_disk(tmp_path / "hub", TALKS)
    (tmp_path / "hub" / names[1]).unlink()
    result = ingest_source(LocalStore(tmp_path), "hub")
    (row,) = result.dropped.itertuples()
    assert (row.reason, row.origin_file) == (r.INGEST_MISSING_SHARD, names[1])
    assert "state.json lists" in row.detail
    assert len(result.pairs) == 3 and result.input_rows == 4


def test_a_sequence_of_dicts_feature_is_a_conversation(tmp_path):
    # datasets stores Sequence({"from": ..., "value": ...}) as a struct of lists
    rows = [{"conversations": {"from": ["human", "gpt"], "value": ["Q", "A"]}}]
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "data-00000-of-00001.arrow").write_bytes(_stream_bytes(rows))
    pairs = ingest_source(LocalStore(tmp_path), "hub").pairs
    assert pairs[["instruction", "response"]].values.tolist() == [["Q", "A"]]


ROWS = [{"prompt": f"P{i}", "response": f"R{i}"} for i in range(7)]


def _arrow_file(rows: list[dict]) -> bytes:
    sink = io.BytesIO()
    feather.write_feather(pa.Table.from_pylist(rows), sink, chunksize=3)
    return sink.getvalue()


@pytest.mark.parametrize("name", ["x.arrow", "x.feather", "x.arrow.gz"])
def test_arrow_ipc_files_and_streams_are_read(name):
    import gzip

    for data in (_arrow_file(ROWS), _stream_bytes(ROWS, batch_rows=3)):
        blob = gzip.compress(data) if name.endswith(".gz") else data
        records = list(read_records(name, io.BytesIO(blob)))
        assert [rec.payload for rec in records] == ROWS
        assert [rec.line for rec in records] == list(range(1, 8))


@pytest.mark.parametrize(("cut", "kept"), [(50, 6), (400, 3)])
def test_a_cut_arrow_stream_keeps_its_complete_batches(cut, kept):
    data = _stream_bytes(ROWS, batch_rows=3)  # batches of 3, 3 and 1 rows
    *good, tail = read_records("x.arrow", io.BytesIO(data[: len(data) - cut]))
    assert [rec.payload for rec in good] == ROWS[:kept]
    assert (tail.line, tail.reason) == (kept + 1, r.INGEST_TRUNCATED_FILE)
    assert f"in record batch {kept // 3 + 1} (after {kept} rows)" in tail.detail


def test_a_file_that_is_not_arrow_is_one_unreadable_row():
    (record,) = list(read_records("x.arrow", io.BytesIO(b"not arrow at all")))
    assert record.reason == r.INGEST_UNREADABLE_FILE and "not an Arrow IPC" in record.detail
