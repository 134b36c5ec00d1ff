"""Text files in any encoding, read as bytes a line or a JSON parser can use.

The default, ``utf-8``, also reads a UTF-8 BOM (dropped) and UTF-16 by its BOM. Other
encodings come from the source's ``scar_source.toml``: one that keeps ASCII as ASCII
(``latin-1``, ``cp1252``, ``shift_jis``, ...) is decoded line by line, so one bad line stays
one bad row; any other (``utf-16-le``, ``utf-32``) is transcoded to UTF-8 as it streams.
"""

from __future__ import annotations

import codecs
import io
import threading
from typing import IO

from scar_dagster.ingest.compression import READ_SIZE, BlockReader

_ASCII_PROBE = '\n\r\t {}[]",:\\abcXYZ019'


def _ascii_compatible(encoding: str) -> bool:
    try:
        return _ASCII_PROBE.encode(encoding) == _ASCII_PROBE.encode("ascii")
    except UnicodeError:
        return False


def _sniffed_utf8(stream: io.BufferedReader) -> io.BufferedReader:
    """``stream`` as UTF-8 bytes without a BOM; a UTF-16 file (by its BOM) is transcoded."""
    head = stream.peek(3)[:3]
    if head.startswith(codecs.BOM_UTF8):
        stream.read(len(codecs.BOM_UTF8))
        return stream
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return transcoded(stream, "utf-16")
    return stream


def transcoded(stream: IO[bytes], encoding: str) -> io.BufferedReader:
    """UTF-8 bytes of ``stream`` decoded as ``encoding``; bytes it cannot decode raise
    ``UnicodeDecodeError`` when reached (the rows before them are read first)."""
    return io.BufferedReader(_Transcoder(stream, encoding), READ_SIZE)


def line_bytes(stream: io.BufferedReader, encoding: str) -> tuple[io.BufferedReader, str]:
    """``(bytes, encoding)``: bytes whose lines split on ``\\n`` and the encoding that
    decodes each line (``utf-8`` unless ``encoding`` keeps ASCII as ASCII)."""
    name = codecs.lookup(encoding).name
    if name in ("utf-8", "utf-8-sig"):
        return _sniffed_utf8(stream), "utf-8"
    if _ascii_compatible(name):
        return stream, name
    return transcoded(stream, name), "utf-8"


def utf8_bytes(stream: io.BufferedReader, encoding: str) -> io.BufferedReader:
    """``stream`` as UTF-8 bytes (for the JSON parser), whatever ``encoding`` it is in."""
    data, decoded_as = line_bytes(stream, encoding)
    return data if decoded_as == "utf-8" else transcoded(data, decoded_as)


_STOP = "scar_ingest_stop"  # the error handler that marks where undecodable bytes start
_MARK = "\udfff"  # a lone surrogate: no strict decoder of valid input yields one
_last_error = threading.local()


def _stop_at_bad_bytes(error: UnicodeError) -> tuple[str, int]:
    _last_error.error = error
    return _MARK, len(error.object)  # type: ignore[attr-defined]


codecs.register_error(_STOP, _stop_at_bad_bytes)


class _Transcoder(BlockReader):
    """UTF-8 bytes of ``stream`` decoded as ``encoding`` block by block. At bytes it cannot
    decode, the text before them is handed out first, then their ``UnicodeDecodeError``."""

    def __init__(self, stream: IO[bytes], encoding: str) -> None:
        super().__init__()
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(_STOP)
        self._ended = False

    def next_block(self) -> bytes | None:
        if self._ended:
            return None
        data = self._stream.read(READ_SIZE)
        self._ended = not data
        text = self._decoder.decode(data, final=self._ended)
        if _MARK in text:
            text = text[: text.index(_MARK)]
            self._error = _last_error.error
        return text.encode("utf-8")
