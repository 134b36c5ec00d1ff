"""Stream raw records out of one landing-zone file (JSONL, JSON array, Parquet).

A reader never raises on bad content: every problem becomes a ``RawRecord`` carrying a
reason code, so the caller can quarantine it with its file and line.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from scar_dagster import schema as r

SUPPORTED_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet")
EXCERPT_CHARS = 200


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


def _utf16_encoding(head: bytes) -> str | None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _parse_object(line: int, text: str) -> RawRecord:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return RawRecord(line, None, r.INGEST_MALFORMED_JSON, str(error), excerpt(text))
    if not isinstance(value, dict):
        detail = f"expected a JSON object, got {type(value).__name__}"
        return RawRecord(line, None, r.INGEST_MALFORMED_JSON, detail, excerpt(text))
    return RawRecord(line, value)


def read_jsonl(stream: IO[bytes]) -> Iterator[RawRecord]:
    """Yield one record per non-blank line; undecodable or malformed lines become errors."""
    head = stream.read(4)
    encoding = _utf16_encoding(head)
    if encoding:
        data = head + stream.read()
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            yield RawRecord(
                0, None, r.INGEST_INVALID_ENCODING, f"whole file: {error}", excerpt(data)
            )
            return
        lines: Any = (line.encode("utf-8") for line in text.splitlines(keepends=True))
    else:
        lines = io.BufferedReader(_Prepend(head, stream))  # type: ignore[arg-type]
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield RawRecord(number, None, r.INGEST_INVALID_ENCODING, str(error), excerpt(raw))
            continue
        yield _parse_object(number, text)


def read_json_array(stream: IO[bytes]) -> Iterator[RawRecord]:
    """Yield one record per element of a top-level JSON array (or a single object)."""
    data = stream.read()
    encoding = _utf16_encoding(data[:4]) or "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        yield RawRecord(0, None, r.INGEST_INVALID_ENCODING, str(error), excerpt(data))
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        yield RawRecord(0, None, r.INGEST_MALFORMED_JSON, f"whole file: {error}", excerpt(text))
        return
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield RawRecord(index, item)
        else:
            detail = f"array element is {type(item).__name__}, not an object"
            yield RawRecord(index, None, r.INGEST_MALFORMED_JSON, detail, excerpt(repr(item)))


def read_parquet(stream: IO[bytes], batch_rows: int = 8192) -> Iterator[RawRecord]:
    """Yield one record per Parquet row, streaming record batches."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = stream.read()
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as error:
        yield RawRecord(0, None, r.INGEST_UNREADABLE_FILE, f"not a Parquet file: {error}")
        return
    number = 0
    for batch in parquet.iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            number += 1
            yield RawRecord(number, row)


def read_records(name: str, stream: IO[bytes]) -> Iterator[RawRecord]:
    """Dispatch on the file suffix; an unknown suffix yields one error record."""
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        yield from read_jsonl(stream)
    elif lower.endswith(".json"):
        yield from read_json_array(stream)
    elif lower.endswith(".parquet"):
        yield from read_parquet(stream)
    else:
        detail = f"unsupported file type {name!r}; expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        yield RawRecord(0, None, r.INGEST_UNKNOWN_FORMAT, detail)


class _Prepend(io.RawIOBase):
    """A raw stream that first returns ``head`` and then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        chunk = self._stream.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)
