"""Streaming readers: every format x compression, damaged files keep their good records."""

import bz2
import csv
import gzip
import hashlib
import io
import json
import lzma

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from scar_dagster import schema as r
from scar_dagster.ingest.compression import SourceStreamError
from scar_dagster.ingest.landing import scan_landing_zone
from scar_dagster.ingest.pipeline import ingest_source, write_source
from scar_dagster.ingest.readers import file_format, read_records
from scar_dagster.sharding import bucket_of
from scar_dagster.storage.stores import LocalStore

ROWS = [{"prompt": f"Question {i}?", "response": f"Answer number {i}."} for i in range(6)]
COMPRESS = {
    "": lambda data: data,
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


def _jsonl(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


def _delimited(rows: list[dict], delimiter: str) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def _parquet(rows: list[dict], row_group_size: int | None = None) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer, row_group_size=row_group_size)
    return buffer.getvalue()


ENCODE = {
    ".jsonl": _jsonl,
    ".json": lambda rows: json.dumps(rows).encode(),
    ".parquet": _parquet,
    ".csv": lambda rows: _delimited(rows, ","),
    ".tsv": lambda rows: _delimited(rows, "\t"),
}


def _records(name: str, data: bytes) -> list:
    return list(read_records(name, io.BytesIO(data)))


@pytest.mark.parametrize("compression", list(COMPRESS))
@pytest.mark.parametrize("fmt", list(ENCODE))
def test_every_format_round_trips_through_every_compression(fmt, compression):
    name = f"data{fmt}{compression}"
    assert file_format(name) == fmt
    records = _records(name, COMPRESS[compression](ENCODE[fmt](ROWS)))
    assert [rec.payload for rec in records] == ROWS
    assert [rec.line for rec in records] == list(range(1, len(ROWS) + 1))


def test_unknown_and_compressed_unknown_suffixes_are_one_error_row():
    for name in ("notes.txt", "notes.txt.gz", "archive.gz"):
        (record,) = _records(name, b"x")
        assert record.reason == r.INGEST_UNSUPPORTED_FILE_TYPE and ".zst" in record.detail


def _assert_tail(records: list, kept: int, reason: str) -> str:
    """The first ``kept`` records are intact and exactly one damage row follows them."""
    assert [rec.payload for rec in records[:kept]] == ROWS[:kept]
    assert len(records) == kept + 1
    tail = records[-1]
    assert (tail.line, tail.reason, tail.payload) == (kept + 1, reason, None)
    assert f"records from {kept + 1:,} on are not read" in tail.detail
    return tail.detail


def test_json_array_cut_mid_record_keeps_every_complete_record():
    data = json.dumps(ROWS).encode()
    cut = data[: data.index(b'"Question 4')]  # inside record 5
    detail = _assert_tail(_records("dump.json", cut), 4, r.INGEST_TRUNCATED_FILE)
    assert f"at byte {len(cut):,} of the file" in detail


def test_json_array_with_a_syntax_error_keeps_the_records_before_it():
    data = json.dumps(ROWS).encode().replace(b'{"prompt": "Question 3', b'{"prompt": Question 3')
    _assert_tail(_records("dump.json", data), 3, r.INGEST_CORRUPT_FILE)


def _hex(i: int) -> str:
    return hashlib.sha256(bytes(i)).hexdigest()


def test_truncated_jsonl_gz_keeps_every_complete_record():
    rows = [{"prompt": f"q{i}", "response": _hex(i)} for i in range(600)]
    data = gzip.compress(_jsonl(rows))
    records = _records("dump.jsonl.gz", data[: len(data) // 2])
    *good, tail = records
    assert len(good) > 100 and [rec.payload for rec in good] == rows[: len(good)]
    assert [rec.line for rec in good] == list(range(1, len(good) + 1))
    assert (tail.line, tail.reason) == (len(good) + 1, r.INGEST_TRUNCATED_FILE)
    assert "of the decompressed data" in tail.detail and "of the .gz file" in tail.detail


@pytest.mark.parametrize("compression", [".gz", ".bz2", ".xz", ".zst"])
def test_truncated_compressed_json_array_keeps_its_complete_records(compression):
    data = COMPRESS[compression](json.dumps(ROWS * 300).encode())
    records = _records(f"dump.json{compression}", data[: int(len(data) * 0.6)])
    assert records[-1].reason == r.INGEST_TRUNCATED_FILE
    assert all(rec.reason is None for rec in records[:-1])
    assert records[-1].line == len(records)


def test_corrupt_zst_frame_keeps_the_records_of_the_frames_before_it():
    compressor = zstandard.ZstdCompressor(write_checksum=True)  # as the zstd command line does
    frames = [compressor.compress(_jsonl([row])) for row in ROWS]
    bad = bytearray(frames[3])
    bad[-6:-1] = b"\xff" * 5  # the block data of frame 4
    data = b"".join(frames[:3]) + bytes(bad) + b"".join(frames[4:])
    _assert_tail(_records("dump.jsonl.zst", data), 3, r.INGEST_CORRUPT_FILE)


def test_parquet_with_a_corrupt_row_group_keeps_the_groups_before_it():
    data = bytearray(_parquet(ROWS, row_group_size=2))
    group = pq.ParquetFile(io.BytesIO(bytes(data))).metadata.row_group(2)
    start = group.column(0).dictionary_page_offset or group.column(0).data_page_offset
    for i in range(start + 16, start + group.column(0).total_compressed_size):
        data[i] = 0xAB
    detail = _assert_tail(_records("x.parquet", bytes(data)), 4, r.INGEST_CORRUPT_FILE)
    assert f"row group 3 of 3 (from byte {start:,})" in detail


def test_csv_and_tsv_use_the_field_mapping_of_the_source_config(tmp_path):
    rows = [
        {"question": "Why, really?", "context": "sky", "answer": 'It is "Rayleigh".\nTwo lines.'},
        {"question": "Second", "context": "", "answer": "Yes."},
    ]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.csv").write_bytes(_delimited(rows, ","))
    (tmp_path / "src" / "b.tsv.gz").write_bytes(gzip.compress(_delimited(rows[:1], "\t")))
    (tmp_path / "src" / "scar_source.toml").write_text(
        '[fields]\ninstruction = "question"\nresponse = "answer"\ninput = "context"\n'
    )
    result = ingest_source(LocalStore(tmp_path), "src")
    assert list(result.pairs["instruction"]) == ["Why, really?\n\nsky", "Second"]
    assert result.pairs["response"].iloc[0] == 'It is "Rayleigh".\nTwo lines.'
    assert result.reason_counts() == {r.INGEST_DUPLICATE: 1}


def test_csv_rows_with_the_wrong_field_count_or_bad_bytes_are_quarantined_alone():
    data = b"prompt,response\nq1,a1\nq2,a2,extra\n\nq3,a3\nq4,\xff\xfe\nq5,a5\n"
    records = _records("x.csv", data)
    assert [(rec.line, rec.reason) for rec in records] == [
        (1, None),
        (2, r.INGEST_MALFORMED_ROW),
        (4, None),
        (5, r.INGEST_INVALID_ENCODING),
        (6, None),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", []),
        (b" \n", []),
        (b"[]", []),
        (b'{"prompt": "a", "response": "b"}', [(1, None)]),
        (b"3", [(1, r.INGEST_MALFORMED_JSON)]),
        (
            b'[{"a": 1}, 2] trailing',
            [(1, None), (2, r.INGEST_MALFORMED_JSON), (3, r.INGEST_CORRUPT_FILE)],
        ),
        (b'[{"a": 1}, {"a": "\xff"}]', [(1, None), (2, r.INGEST_INVALID_ENCODING)]),
    ],
)
def test_json_edge_cases(data, expected):
    assert [(rec.line, rec.reason) for rec in _records("x.json", data)] == expected


def test_compressed_parquet_reads_by_row_group_and_bad_data_is_one_row():
    data = gzip.compress(_parquet(ROWS, row_group_size=2))
    assert [rec.payload for rec in _records("x.parquet.gz", data)] == ROWS
    (bad,) = _records("x.parquet.gz", b"not gzip")
    assert (bad.line, bad.reason) == (1, r.INGEST_CORRUPT_FILE)


class _Tripwire(io.RawIOBase):
    """A stream of ``data`` that fails the test if more than ``limit`` bytes are read."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._data, self._limit, self.read_bytes = io.BytesIO(data), limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(len(buffer))
        self.read_bytes += len(chunk)
        if self.read_bytes > self._limit:
            raise AssertionError(f"read {self.read_bytes:,} bytes, over {self._limit:,}")
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("big.json", lambda rows: json.dumps(rows).encode()),
        ("big.jsonl", _jsonl),
        ("big.csv", lambda rows: _delimited(rows, ",")),
        ("big.json.gz", lambda rows: gzip.compress(json.dumps(rows).encode())),
        ("big.json.zst", lambda rows: COMPRESS[".zst"](json.dumps(rows).encode())),
    ],
)
def test_first_record_comes_before_the_file_is_read(name, encode):
    rows = [{"prompt": f"q{i}", "response": f"{i} " * 500} for i in range(5_000)]
    data = encode(rows)
    assert len(data) > 1_000_000 or name.endswith((".gz", ".zst"))
    stream = _Tripwire(data, limit=512 * 1024)
    records = read_records(name, stream)
    assert next(records).payload == rows[0]
    assert stream.read_bytes <= 512 * 1024


def test_a_failing_store_stream_raises_instead_of_quarantining():
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            raise ConnectionResetError("peer went away")

    with pytest.raises(SourceStreamError, match="peer went away"):
        list(read_records("x.jsonl", Broken()))


def test_landing_scan_lists_compressed_and_delimited_files(tmp_path):
    names = ["a.jsonl.gz", "b.json.zst", "c.csv", "d.tsv.xz", "e.parquet", "f.ndjson.bz2"]
    for name in names:
        (tmp_path / "src" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "src" / name).write_bytes(b"")
    scan = scan_landing_zone(LocalStore(tmp_path))
    assert sorted(info.key for info in scan.files["src"]) == names


def test_write_source_writes_row_groups_that_read_back_as_the_frames(tmp_path):
    landing = tmp_path / "landing"
    (landing / "src").mkdir(parents=True)
    rows = ROWS + ROWS[:2] + [{"prompt": "only"}]
    (landing / "src" / "a.json.gz").write_bytes(gzip.compress(json.dumps(rows).encode()[:-30]))
    (landing / "src" / "b.jsonl").write_bytes(_jsonl(ROWS[2:]) + b"{bad\n")
    store = LocalStore(landing)
    pairs_path, dropped_path = tmp_path / "pairs.parquet", tmp_path / "dropped.parquet"
    written = write_source(store, "src", pairs_path, dropped_path, chunk_rows=2)
    whole = ingest_source(store, "src")
    groups = pq.ParquetFile(pairs_path)  # the shard layout: one bucket per group, <= 2 rows
    for index in range(groups.metadata.num_row_groups):
        ids = groups.read_row_group(index).column("id").to_pylist()
        assert 1 <= len(ids) <= 2 and len({bucket_of(i) for i in ids}) == 1
    origin = ["origin_file", "origin_line", "origin_turn"]  # pairs in bucket order on disk
    pd.testing.assert_frame_equal(
        pd.read_parquet(pairs_path).sort_values(origin, ignore_index=True), whole.pairs
    )
    pd.testing.assert_frame_equal(pd.read_parquet(dropped_path), whole.dropped)
    assert written.input_records == whole.input_records == len(rows) - 1 + 4 + 1
    assert written.kept + written.duplicates + written.quarantined == written.input_records
    assert written.reasons == whole.reason_counts()
    assert r.INGEST_TRUNCATED_FILE in written.reasons
    pd.testing.assert_frame_equal(written.pairs_head, whole.pairs.head(5))


def test_write_source_of_an_empty_source_writes_typed_empty_files(tmp_path):
    (tmp_path / "landing" / "src").mkdir(parents=True)
    store = LocalStore(tmp_path / "landing")
    pairs_path, dropped_path = tmp_path / "pairs.parquet", tmp_path / "dropped.parquet"
    written = write_source(store, "src", pairs_path, dropped_path)
    assert written.input_records == written.kept == 0
    pairs = pd.read_parquet(pairs_path)
    assert list(pairs.columns) == list(r.PAIR_COLUMNS) and len(pairs) == 0
    assert pairs["origin_line"].dtype == "int64"
