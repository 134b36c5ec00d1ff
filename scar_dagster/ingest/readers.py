"""Stream raw records out of one landing-zone file: JSONL, JSON array, Parquet, CSV, TSV.

Every format may be compressed (``.gz``, ``.bz2``, ``.xz``, ``.zst`` after the format suffix).
Memory is bounded by one record (JSON, JSONL, CSV) or one Parquet row group, never the file.
A reader never raises on bad content: every problem becomes a ``RawRecord`` carrying a
reason code, so the caller can quarantine it with its file and record number. A file that
is cut off or corrupt keeps every complete record before the damage; the rest becomes one
record (``ingest_truncated_file`` or ``ingest_corrupt_file``) naming the first record not
read and the byte offset where the damage was detected.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from scar_dagster import schema as r
from scar_dagster.ingest.compression import (
    DECOMPRESSORS,
    READ_SIZE,
    CountingReader,
    SourceStreamError,
    decompression_errors,
    split_compression,
)

FORMAT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".csv", ".tsv")
EXCERPT_CHARS = 200
CSV_FIELD_LIMIT = 64 * 1024 * 1024  # characters per CSV cell (the csv module's default: 128 Ki)


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: a parsed mapping, or the reason it could not be parsed."""

    line: int
    payload: dict[str, Any] | None
    reason: str | None = None
    detail: str = ""
    excerpt: str = ""


def excerpt(text: str | bytes) -> str:
    """Return a short printable excerpt of bad input for the quarantine table."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def file_format(name: str) -> str | None:
    """The format suffix of ``name`` behind any compression suffix (``x.json.gz`` -> ``.json``)."""
    inner = split_compression(name)[0].lower()
    return next((suffix for suffix in FORMAT_SUFFIXES if inner.endswith(suffix)), None)


def _utf8(stream: io.BufferedReader) -> io.BufferedReader:
    """``stream`` as UTF-8 bytes without a BOM; a UTF-16 file (by its BOM) is transcoded."""
    head = stream.peek(3)[:3]
    if head.startswith(codecs.BOM_UTF8):
        stream.read(len(codecs.BOM_UTF8))
        return stream
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = io.TextIOWrapper(stream, encoding="utf-16", newline="")
        return io.BufferedReader(_Utf8Encoder(text), READ_SIZE)
    return stream


def _parse_line(line: int, raw: bytes) -> RawRecord:
    import json

    try:
        text = raw.decode("utf-8")
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


def read_jsonl(stream: io.BufferedReader) -> Iterator[RawRecord]:
    """Yield one record per non-blank line; undecodable or malformed lines become errors."""
    for number, raw in enumerate(_utf8(stream), start=1):
        if raw.strip():
            yield _parse_line(number, raw)


def _first_byte(stream: io.BufferedReader) -> bytes:
    """Skip leading whitespace; return the next byte without consuming it (b"" at the end)."""
    while True:
        head = stream.peek(1)[:1]
        if head not in (b" ", b"\t", b"\r", b"\n"):
            return head
        stream.read(1)


def read_json_array(stream: io.BufferedReader) -> Iterator[RawRecord]:
    """Yield one record per element of a top-level JSON array (or one for a single object).

    Parsed incrementally with ``ijson``: memory holds one element, not the file.
    """
    import ijson

    text = _utf8(stream)
    first = _first_byte(text)
    if not first:
        return
    if first not in (b"[", b"{"):
        detail = f"expected a JSON array or object, the file starts with {first!r}"
        yield RawRecord(1, None, r.INGEST_MALFORMED_JSON, detail, excerpt(text.peek(200)[:200]))
        return
    prefix = "item" if first == b"[" else ""
    items = ijson.items(_ReadOne(text), prefix, use_float=True)
    for index, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield RawRecord(index, item)
        else:
            detail = f"array element is {type(item).__name__}, not an object"
            yield RawRecord(index, None, r.INGEST_MALFORMED_JSON, detail, excerpt(repr(item)))


_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes kept by the "surrogateescape" handler


def _delimited(delimiter: str) -> Callable[[io.BufferedReader], Iterator[RawRecord]]:
    def read(stream: io.BufferedReader) -> Iterator[RawRecord]:
        """Yield one record per data row; the header row names the fields.

        Bytes that are not UTF-8 make their own row ``ingest_invalid_encoding``, not the file.
        """
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        utf8 = _utf8(stream)
        text = io.TextIOWrapper(utf8, encoding="utf-8", errors="surrogateescape", newline="")
        rows = csv.reader(text, delimiter=delimiter)
        header = [name.strip() for name in next(rows, [])]
        for number, row in enumerate(rows, start=1):
            if not any(cell.strip() for cell in row):
                continue
            line = delimiter.join(row)
            if _UNDECODABLE.search(line):
                bad = line.encode("utf-8", errors="surrogateescape")
                detail = "row has bytes that are not valid UTF-8"
                yield RawRecord(number, None, r.INGEST_INVALID_ENCODING, detail, excerpt(bad))
            elif len(row) != len(header):
                detail = f"row has {len(row)} fields, the header has {len(header)}"
                yield RawRecord(number, None, r.INGEST_MALFORMED_ROW, detail, excerpt(line))
            else:
                yield RawRecord(number, dict(zip(header, row, strict=True)))

    return read


read_csv = _delimited(",")
read_tsv = _delimited("\t")


@contextlib.contextmanager
def _seekable(stream: IO[bytes]) -> Iterator[IO[bytes]]:
    """``stream`` itself when it can seek, else a temporary file holding its bytes."""
    if getattr(stream, "seekable", lambda: False)():
        yield stream
        return
    with tempfile.TemporaryFile(prefix="scar-ingest-") as spool:
        shutil.copyfileobj(stream, spool, READ_SIZE)
        spool.seek(0)
        yield spool


def read_parquet(stream: IO[bytes], batch_rows: int = 8192) -> Iterator[RawRecord]:
    """Yield one record per Parquet row, one row group at a time.

    A stream that cannot seek (S3, decompressed) is spooled to a temporary file first, since
    Parquet keeps its index at the end. A row group that cannot be decoded ends the file:
    its rows and the later ones become one ``ingest_corrupt_file`` record.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _seekable(stream) as source:
        try:
            parquet = pq.ParquetFile(source, pre_buffer=False)  # see ParquetPart._file
        except (pa.ArrowException, OSError) as error:
            yield RawRecord(0, None, r.INGEST_UNREADABLE_FILE, f"not a Parquet file: {error}")
            return
        number = 0
        for group in range(parquet.num_row_groups):
            try:
                rows = [
                    row
                    for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=[group])
                    for row in batch.to_pylist()
                ]
            except (pa.ArrowException, OSError) as error:
                offset = _row_group_offset(parquet.metadata.row_group(group))
                groups = parquet.num_row_groups
                where = f"in row group {group + 1} of {groups} (from byte {offset:,})"
                yield damage_record(number + 1, r.INGEST_CORRUPT_FILE, where, error)
                return
            for row in rows:
                number += 1
                yield RawRecord(number, row)


def _row_group_offset(group: Any) -> int:
    column = group.column(0)
    offsets = [column.data_page_offset]
    if column.has_dictionary_page:
        offsets.append(column.dictionary_page_offset)
    return min(offsets)


READERS: dict[str, Callable[[io.BufferedReader], Iterator[RawRecord]]] = {
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".json": read_json_array,
    ".csv": read_csv,
    ".tsv": read_tsv,
}


def _error_text(error: BaseException) -> str:
    text = error.args[0] if error.args else error
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return str(text)


def damage_record(line: int, reason: str, where: str, error: BaseException) -> RawRecord:
    """The one record standing for everything from record ``line`` on in a damaged file."""
    message = _error_text(error)
    what = {
        r.INGEST_TRUNCATED_FILE: "the file ends in the middle of a record",
        r.INGEST_INVALID_ENCODING: "the file has bytes that are not valid text",
    }.get(reason, "the file is corrupt")
    detail = (
        f"{what}: records from {line:,} on are not read; damage detected {where} "
        f"({type(error).__name__}: {message.splitlines()[0] if message else ''})"
    )
    return RawRecord(line, None, reason, detail, excerpt(message))


def _damage_reason(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return r.INGEST_TRUNCATED_FILE
    message = _error_text(error)
    if isinstance(error, UnicodeError) or "invalid bytes in UTF8" in message:  # yajl's words
        return r.INGEST_INVALID_ENCODING
    if "premature EOF" in message or "Incomplete" in message:  # ijson's C / Python backends
        return r.INGEST_TRUNCATED_FILE
    return r.INGEST_CORRUPT_FILE


def _damage_errors() -> tuple[type[BaseException], ...]:
    import ijson

    return (*decompression_errors(), ijson.JSONError, csv.Error, UnicodeError)


def read_records(name: str, stream: IO[bytes]) -> Iterator[RawRecord]:
    """Dispatch on the file suffix; an unknown suffix yields one error record.

    Damage (truncation, corrupt compressed data, broken JSON syntax) ends the file with one
    record for its unread rest; a failure of the store itself raises ``SourceStreamError``.
    """
    fmt = file_format(name)
    if fmt is None:
        expected = f"{', '.join(FORMAT_SUFFIXES)} (optionally {'/'.join(DECOMPRESSORS)})"
        detail = f"unsupported file type {name!r}; expected one of {expected}"
        yield RawRecord(0, None, r.INGEST_UNKNOWN_FORMAT, detail)
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
        records = READERS[fmt](io.BufferedReader(decoded, READ_SIZE))  # type: ignore[arg-type]
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


class _Utf8Encoder(io.RawIOBase):
    """UTF-8 bytes of a text stream (a UTF-16 file decoded by ``io.TextIOWrapper``)."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending:
            self._pending = self._text.read(READ_SIZE // 4).encode("utf-8")
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
