"""Stream raw records out of one landing-zone file: JSONL, JSON, Parquet, Arrow, CSV, TSV.

The format comes from the file suffix, or for every file of a source from ``format`` in its
``scar_source.toml`` (with ``encoding`` and ``json_path``: ``source_config.py``). Every
format may be compressed (``.gz``, ``.bz2``, ``.xz``, ``.zst`` after the format suffix).
Memory is bounded by one record (JSON, JSONL, CSV) or one Parquet row group, never the file.
A reader never raises on bad content: every problem becomes a ``RawRecord`` carrying a
reason code, so the caller can quarantine it with its file and record number. A file that
is cut off or corrupt keeps every complete record before the damage; the rest becomes one
record (``ingest_truncated_file`` or ``ingest_corrupt_file``) naming the first record not
read and the byte offset where the damage was detected.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from scar_dagster import schema as r
from scar_dagster.ingest.columnar import read_arrow, read_parquet
from scar_dagster.ingest.compression import (
    DECOMPRESSORS,
    READ_SIZE,
    CountingReader,
    SourceStreamError,
    decompression_errors,
    split_compression,
)
from scar_dagster.ingest.records import RawRecord, damage_record, error_text, excerpt
from scar_dagster.ingest.source_config import DEFAULT_CONFIG, SourceConfig
from scar_dagster.ingest.text_encoding import line_bytes, utf8_bytes

FORMAT_SUFFIXES = (
    ".jsonl",
    ".ndjson",
    ".json",
    ".parquet",
    ".arrow",
    ".feather",
    ".csv",
    ".tsv",
)
CSV_FIELD_LIMIT = 64 * 1024 * 1024  # characters per CSV cell (the csv module's default: 128 Ki)


def file_format(name: str, config: SourceConfig | None = None) -> str | None:
    """The format suffix of ``name`` behind any compression suffix (``x.json.gz`` -> ``.json``),
    or the ``format`` a source config sets for every file; None when it is not known."""
    if config is not None and config.format is not None:
        return f".{config.format}"
    inner = split_compression(name)[0].lower()
    return next((suffix for suffix in FORMAT_SUFFIXES if inner.endswith(suffix)), None)


def _parse_line(line: int, raw: bytes, encoding: str) -> RawRecord:
    import json

    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        return RawRecord(line, None, r.INGEST_INVALID_ENCODING, str(error), excerpt(raw))
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return RawRecord(line, None, r.INGEST_MALFORMED_JSON, str(error), excerpt(text))
    if not isinstance(value, dict):
        detail = f"expected a JSON object, got {type(value).__name__}"
        return RawRecord(line, None, r.INGEST_MALFORMED_JSON, detail, excerpt(text))
    return RawRecord(line, value)


def read_jsonl(stream: io.BufferedReader, config: SourceConfig) -> Iterator[RawRecord]:
    """Yield one record per non-blank line; undecodable or malformed lines become errors."""
    lines, encoding = line_bytes(stream, config.encoding)
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            yield _parse_line(number, raw, encoding)


def _first_byte(stream: io.BufferedReader) -> bytes:
    """Skip leading whitespace; return the next byte without consuming it (b"" at the end)."""
    while True:
        head = stream.peek(1)[:1]
        if head not in (b" ", b"\t", b"\r", b"\n"):
            return head
        stream.read(1)


def read_json(stream: io.BufferedReader, config: SourceConfig) -> Iterator[RawRecord]:
    """Yield one record per element of a top-level JSON array, per top-level object (one, or
    one per line), or per element of the array at ``config.json_path`` in a wrapped file.

    Parsed incrementally with ``ijson``: memory holds one element, not the file.
    """
    text = utf8_bytes(stream, config.encoding)
    first = _first_byte(text)
    if not first:
        return
    if first not in (b"[", b"{"):
        detail = f"expected a JSON array or object, the file starts with {first!r}"
        yield RawRecord(1, None, r.INGEST_MALFORMED_JSON, detail, excerpt(text.peek(200)[:200]))
        return
    if config.json_path is not None:
        yield from _wrapped_rows(text, config.json_path)
        return
    import ijson

    if first == b"[":
        items = ijson.items(_ReadOne(text), "item", use_float=True)
    else:
        items = ijson.items(_ReadOne(text), "", use_float=True, multiple_values=True)
    yield from _objects(items)


def _objects(items: Iterator[Any]) -> Iterator[RawRecord]:
    for index, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield RawRecord(index, item)
        else:
            detail = f"array element is {type(item).__name__}, not an object"
            yield RawRecord(index, None, r.INGEST_MALFORMED_JSON, detail, excerpt(repr(item)))


def _wrapped_rows(text: io.BufferedReader, json_path: str) -> Iterator[RawRecord]:
    """The elements of the array at ``json_path``; one row when the file has no such array."""
    import ijson

    found: list[bool] = []

    def watched(events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
        for event in events:
            if event[1] == "start_array" and event[0] == json_path:
                found.append(True)
            yield event

    events = watched(ijson.parse(_ReadOne(text), use_float=True))
    yield from _objects(ijson.items(events, f"{json_path}.item"))
    if not found:
        detail = f"json_path {json_path!r} names no array in this file"
        yield RawRecord(0, None, r.INGEST_JSON_PATH_NOT_FOUND, detail)


_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes kept by the "surrogateescape" handler


def _delimited(delimiter: str) -> Callable[[io.BufferedReader, SourceConfig], Iterator[RawRecord]]:
    def read(stream: io.BufferedReader, config: SourceConfig) -> Iterator[RawRecord]:
        """Yield one record per data row; the header row names the fields.

        Bytes the encoding cannot decode make their own row ``ingest_invalid_encoding``.
        """
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        data, encoding = line_bytes(stream, config.encoding)
        text = io.TextIOWrapper(data, encoding=encoding, errors="surrogateescape", newline="")
        rows = csv.reader(text, delimiter=delimiter)
        header = [name.strip() for name in next(rows, [])]
        for number, row in enumerate(rows, start=1):
            if not any(cell.strip() for cell in row):
                continue
            line = delimiter.join(row)
            if _UNDECODABLE.search(line):
                bad = line.encode(encoding, errors="surrogateescape")
                detail = f"row has bytes that are not valid {encoding}"
                yield RawRecord(number, None, r.INGEST_INVALID_ENCODING, detail, excerpt(bad))
            elif len(row) != len(header):
                detail = f"row has {len(row)} fields, the header has {len(header)}"
                yield RawRecord(number, None, r.INGEST_MALFORMED_ROW, detail, excerpt(line))
            else:
                yield RawRecord(number, dict(zip(header, row, strict=True)))

    return read


READERS: dict[str, Callable[[io.BufferedReader, SourceConfig], Iterator[RawRecord]]] = {
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".json": read_json,
    ".csv": _delimited(","),
    ".tsv": _delimited("\t"),
    ".arrow": lambda stream, _: read_arrow(stream),
    ".feather": lambda stream, _: read_arrow(stream),
}


def _damage_reason(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return r.INGEST_TRUNCATED_FILE
    message = error_text(error)
    if isinstance(error, UnicodeError) or "invalid bytes in UTF8" in message:  # yajl's words
        return r.INGEST_INVALID_ENCODING
    if "premature EOF" in message or "Incomplete" in message:  # ijson's C / Python backends
        return r.INGEST_TRUNCATED_FILE
    return r.INGEST_CORRUPT_FILE


def _damage_errors() -> tuple[type[BaseException], ...]:
    import ijson

    return (*decompression_errors(), ijson.JSONError, csv.Error, UnicodeError)


def read_records(
    name: str, stream: IO[bytes], config: SourceConfig | None = None
) -> Iterator[RawRecord]:
    """Dispatch on the file suffix (or the config's ``format``); an unknown suffix yields one
    ``ingest_unsupported_file_type`` record.

    Damage (truncation, corrupt compressed data, broken JSON syntax) ends the file with one
    record for its unread rest; a failure of the store itself raises ``SourceStreamError``.
    """
    config = config or DEFAULT_CONFIG
    fmt = file_format(name, config)
    if fmt is None:
        expected = f"{', '.join(FORMAT_SUFFIXES)} (optionally {'/'.join(DECOMPRESSORS)})"
        detail = (
            f"unsupported file type {name!r}; expected one of {expected}, "
            "or set format in scar_source.toml"
        )
        yield RawRecord(0, None, r.INGEST_UNSUPPORTED_FILE_TYPE, detail)
        return
    compression = split_compression(name)[1]
    raw = CountingReader(stream, source_errors=True, seekable=compression is None)
    decoded = CountingReader(DECOMPRESSORS[compression](raw)) if compression else raw  # type: ignore[arg-type]

    def where() -> str:
        if compression is None:
            return f"at byte {raw.count:,} of the file"
        return (
            f"at byte {decoded.count:,} of the decompressed data "
            f"(byte {raw.count:,} of the {compression} file)"
        )

    if fmt == ".parquet":
        source = raw if compression is None else io.BufferedReader(decoded, READ_SIZE)
        records = read_parquet(source)
    else:
        records = READERS[fmt](io.BufferedReader(decoded, READ_SIZE), config)  # type: ignore[arg-type]
    last = 0
    try:
        for record in records:
            last = max(last, record.line)
            yield record
    except SourceStreamError:
        raise
    except _damage_errors() as error:
        yield damage_record(last + 1, _damage_reason(error), where(), error)


class _ReadOne:
    """``read(n)`` as ``read1(n)``: what is buffered is parsed before a failing read."""

    def __init__(self, stream: io.BufferedReader) -> None:
        self.read = stream.read1
