"""Every supported layout parses; every bad-input class gets its precise reason."""

import codecs
import io
import json

import pandas as pd
import pytest

from scar_dagster import schema as r
from scar_dagster.ingest.canonical import canonical_text, pair_id
from scar_dagster.ingest.normalize import (
    NormalizeParams,
    RecordQuarantined,
    normalize_record,
    record_pairs,
)
from scar_dagster.ingest.readers import read_records
from scar_dagster.ingest.source_config import FieldMapping, SourceConfig


def _records(name: str, data: bytes) -> list:
    return list(read_records(name, io.BytesIO(data)))


def _pair(record: dict, **params):
    return normalize_record(
        record, source="s", origin_file="f", origin_line=1, params=NormalizeParams(**params)
    )


@pytest.mark.parametrize(
    ("record", "instruction", "response"),
    [
        ({"instruction": "Say hi", "input": "", "output": "Hi!"}, "Say hi", "Hi!"),
        (
            {"instruction": "Translate", "input": "chat", "output": "cat"},
            "Translate\n\nchat",
            "cat",
        ),
        (
            {
                "conversations": [
                    {"from": "system", "value": "be nice"},
                    {"from": "human", "value": "Q"},
                    {"from": "gpt", "value": "A"},
                    {"from": "human", "value": "Q2"},
                ]
            },
            "Q",
            "A",
        ),
        (
            {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]},
            "Q",
            "A",
        ),
        ({"prompt": "P", "response": "R"}, "P", "R"),
    ],
)
def test_each_layout_gives_instruction_and_response(record, instruction, response):
    pair = _pair(record)
    assert (pair.instruction, pair.response) == (instruction, response)


def test_field_mapping_reads_custom_fields():
    config = SourceConfig(fields=FieldMapping(instruction="q", response="a", input="context"))
    record = {"q": "Why?", "context": "sky", "a": "Rayleigh."}
    (pair,) = record_pairs(record, source="s", origin_file="f", origin_line=1, config=config).rows
    assert pair.instruction == "Why?\n\nsky" and pair.response == "Rayleigh."


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"instruction": "Q"}, r.INGEST_MISSING_FIELD),
        ({"output": "A"}, r.INGEST_MISSING_FIELD),
        ({"instruction": "Q", "output": None}, r.INGEST_NULL_VALUE),
        ({"instruction": "Q", "output": 42}, r.INGEST_NON_STRING),
        ({"instruction": ["Q"], "output": "A"}, r.INGEST_NON_STRING),
        ({"instruction": "Q", "output": {"text": "A"}}, r.INGEST_NON_STRING),
        ({"instruction": "Q", "output": ""}, r.INGEST_EMPTY_TEXT),
        ({"instruction": " \n\t ", "output": "A"}, r.INGEST_EMPTY_TEXT),
        ({"instruction": "Q", "output": "\u200b\ufeff"}, r.INGEST_EMPTY_TEXT),
        ({"title": "Q", "body": "A"}, r.INGEST_UNKNOWN_FORMAT),
        ({"conversations": [{"from": "human", "value": "Q"}]}, r.INGEST_MISSING_FIELD),
        ({"conversations": "Q"}, r.INGEST_NON_STRING),
    ],
)
def test_bad_records_are_rejected_with_reason(record, reason):
    with pytest.raises(RecordQuarantined) as caught:
        _pair(record)
    assert caught.value.reason == reason


def test_too_long_text_is_rejected():
    with pytest.raises(RecordQuarantined) as caught:
        _pair({"instruction": "Q", "output": "x" * 101}, max_text_chars=100)
    assert caught.value.reason == r.INGEST_TOO_LONG
    assert "101" in caught.value.detail


def test_normalization_keeps_layout_and_gives_stable_ids():
    messy = "\ufeff  Title\r\n\r\n\r\n\r\n- item one   \r\n\tcode()\x00 \n"
    assert canonical_text(messy) == "Title\n\n- item one\n    code()"
    a = _pair({"instruction": "Q ", "output": "A\r\n"})
    b = _pair({"prompt": "Q", "response": "A"})
    assert a.id == b.id == pair_id("Q", "A")
    assert len(a.id) == 24


def test_jsonl_reports_malformed_truncated_and_non_object_lines():
    data = b'{"prompt": "a", "response": "b"}\n{broken\n\n[1, 2]\n{"prompt": "c", "respo'
    records = _records("x.jsonl", data)
    assert [rec.line for rec in records] == [1, 2, 4, 5]
    assert records[0].payload == {"prompt": "a", "response": "b"}
    assert [rec.reason for rec in records[1:]] == [r.INGEST_MALFORMED_JSON] * 3


def test_jsonl_invalid_utf8_line_is_isolated():
    data = b'{"prompt": "a", "response": "b"}\n{"prompt": "\xff\xfe", "response": "c"}\n'
    records = _records("x.jsonl", data)
    assert records[0].reason is None
    assert records[1].reason == r.INGEST_INVALID_ENCODING and records[1].line == 2


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_jsonl_with_bom_or_utf16_decodes(encoding):
    text = '{"prompt": "héllo", "response": "wörld"}\n{"prompt": "b", "response": "c"}\n'
    records = _records("x.jsonl", text.encode(encoding))
    assert [rec.payload["prompt"] for rec in records] == ["héllo", "b"]


def test_json_array_and_broken_array():
    good = json.dumps([{"prompt": "a", "response": "b"}, 3]).encode()
    records = _records("x.json", good)
    assert records[0].payload == {"prompt": "a", "response": "b"}
    assert records[1].reason == r.INGEST_MALFORMED_JSON and records[1].line == 2
    broken = _records("x.json", b'[{"prompt": "a"')  # cut off: its one record is the tail
    assert [(rec.line, rec.reason) for rec in broken] == [(1, r.INGEST_TRUNCATED_FILE)]


def test_parquet_rows_and_wrong_types():
    buffer = io.BytesIO()
    pd.DataFrame({"prompt": ["a", "b"], "response": [1, 2]}).to_parquet(buffer)
    records = _records("x.parquet", buffer.getvalue())
    assert [rec.payload for rec in records] == [
        {"prompt": "a", "response": 1},
        {"prompt": "b", "response": 2},
    ]
    with pytest.raises(RecordQuarantined) as caught:
        _pair(records[0].payload)
    assert caught.value.reason == r.INGEST_NON_STRING
    assert _records("x.parquet", b"not parquet")[0].reason == r.INGEST_UNREADABLE_FILE


def test_unknown_extension():
    assert _records("notes.txt", b"hello")[0].reason == r.INGEST_UNSUPPORTED_FILE_TYPE


def test_utf16_bom_marker_constant_is_what_we_detect():
    assert "x".encode("utf-16").startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
