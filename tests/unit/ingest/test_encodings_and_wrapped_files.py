"""Encodings, wrapped JSON files and the format override, as a source config sets them."""

import codecs
import csv
import gzip
import io
import json

import pytest

from scar_dagster import schema as r
from scar_dagster.ingest.pipeline import ingest_source
from scar_dagster.ingest.readers import read_records
from scar_dagster.ingest.source_config import SourceConfig
from scar_dagster.storage.stores import LocalStore

ROWS = [
    {"prompt": "Qu'est-ce qu'un café crème ?", "response": "Un café au lait, à la française."},
    {"prompt": "Señor, ¿qué hora es?", "response": "Son las dos y media."},
]


def _records(name: str, data: bytes, **config) -> list:
    return list(read_records(name, io.BytesIO(data), SourceConfig(**config)))


def _jsonl(rows, encoding: str) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode(encoding)


def _csv(rows, encoding: str) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["prompt", "response"])
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


ENCODERS = {
    "x.jsonl": _jsonl,
    "x.json": lambda rows, encoding: json.dumps(rows, ensure_ascii=False).encode(encoding),
    "x.csv": _csv,
}


@pytest.mark.parametrize("name", list(ENCODERS))
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16-le", "utf-8-sig"])
def test_the_configured_encoding_decodes_every_text_format(name, encoding):
    records = _records(name, ENCODERS[name](ROWS, encoding), encoding=encoding)
    assert [record.payload for record in records] == ROWS


def test_latin1_without_config_is_invalid_encoding_row_by_row():
    records = _records("x.jsonl", _jsonl(ROWS, "latin-1"))
    assert [(rec.line, rec.reason) for rec in records] == [
        (1, r.INGEST_INVALID_ENCODING),
        (2, r.INGEST_INVALID_ENCODING),
    ]


def test_a_bad_line_in_a_configured_encoding_stays_one_row():
    rows = [
        {"prompt": "東京はどこですか？", "response": "日本です。"},
        {"prompt": "a", "response": "b"},
    ]
    data = _jsonl(rows[:1], "shift_jis") + b'{"prompt": "\x81", "response": "x"}\n'
    records = _records("x.jsonl", data + _jsonl(rows[1:], "shift_jis"), encoding="shift_jis")
    assert [rec.reason for rec in records] == [None, r.INGEST_INVALID_ENCODING, None]
    assert [records[0].payload, records[2].payload] == rows


def test_a_utf16_file_with_a_bad_surrogate_keeps_the_rows_before_it():
    good = _jsonl(ROWS, "utf-16-le")
    records = _records("x.jsonl", good + b"\x00\xd8\x41\x00", encoding="utf-16-le")
    assert [rec.payload for rec in records[:2]] == ROWS
    assert records[2].reason == r.INGEST_INVALID_ENCODING


def test_utf8_bom_is_read_by_default():
    assert [
        rec.payload for rec in _records("x.jsonl", codecs.BOM_UTF8 + _jsonl(ROWS, "utf-8"))
    ] == ROWS


WRAPPED = {"version": "1.1", "data": ROWS, "meta": {"rows": [ROWS[0]]}}


def test_json_path_reads_the_rows_of_a_wrapped_file():
    data = json.dumps(WRAPPED).encode()
    assert [rec.payload for rec in _records("x.json", data, json_path="data")] == ROWS
    nested = [rec.payload for rec in _records("x.json", data, json_path="meta.rows")]
    assert nested == ROWS[:1]
    assert [rec.line for rec in _records("x.json", data, json_path="data")] == [1, 2]


def test_a_json_path_that_is_not_in_the_file_is_one_row():
    (row,) = _records("x.json", json.dumps(WRAPPED).encode(), json_path="rows")
    assert row.reason == r.INGEST_JSON_PATH_NOT_FOUND and "'rows'" in row.detail
    (row,) = _records("x.json", json.dumps(ROWS).encode(), json_path="data")
    assert row.reason == r.INGEST_JSON_PATH_NOT_FOUND


def test_a_cut_wrapped_file_keeps_its_complete_rows():
    data = json.dumps(WRAPPED).encode()
    cut = data[: data.index(b"Son las")]
    records = _records("x.json", cut, json_path="data")
    assert records[0].payload == ROWS[0]
    assert [(rec.line, rec.reason) for rec in records[1:]] == [(2, r.INGEST_TRUNCATED_FILE)]


def test_a_wrapped_file_without_json_path_is_one_row_that_says_what_to_set(tmp_path):
    (tmp_path / "squad").mkdir()
    (tmp_path / "squad" / "train.json").write_text(json.dumps(WRAPPED))
    result = ingest_source(LocalStore(tmp_path), "squad")
    (row,) = result.dropped.itertuples()
    assert row.reason == r.INGEST_UNKNOWN_FORMAT and 'set json_path = "data"' in row.detail
    (tmp_path / "squad" / "scar_source.toml").write_text('json_path = "data"\n')
    result = ingest_source(LocalStore(tmp_path), "squad")
    assert len(result.pairs) == 2 and result.input_rows == 2


def test_a_json_file_of_one_object_per_line_is_read_as_such():
    data = _jsonl(ROWS, "utf-8")
    assert [rec.payload for rec in _records("dump.json", data)] == ROWS


def test_format_overrides_the_suffix_for_every_file(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "part-0.txt").write_bytes(_jsonl(ROWS, "utf-8"))
    (tmp_path / "logs" / "part-1.log.gz").write_bytes(gzip.compress(_jsonl(ROWS, "utf-8")))
    without = ingest_source(LocalStore(tmp_path), "logs")
    assert without.reason_counts() == {r.INGEST_UNSUPPORTED_FILE_TYPE: 2}
    assert set(without.dropped["origin_file"]) == {"part-0.txt", "part-1.log.gz"}
    (tmp_path / "logs" / "scar_source.toml").write_text('format = "jsonl"\n')
    result = ingest_source(LocalStore(tmp_path), "logs")
    assert len(result.pairs) == 2 and result.duplicates == 2
    assert result.input_rows == len(result.pairs) + len(result.dropped) == 4
