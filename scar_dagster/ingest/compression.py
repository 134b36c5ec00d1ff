"""Decompress a landing-zone stream by its file suffix, counting bytes on both sides.

``x.jsonl.gz`` is JSONL in gzip; ``.gz``, ``.bz2``, ``.xz`` and ``.zst`` wrap any format.
Every decompressor raises ``EOFError`` when the data ends before the compressed stream does
(a cut-off download), so a reader can tell a truncated file from a corrupt one.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from typing import IO, Any

READ_SIZE = 64 * 1024


class SourceStreamError(RuntimeError):
    """The store failed while the file was read (network, disk): not damage in the file.

    Deliberately not an ``OSError``, so it is never mistaken for a corrupt file and the
    step's retry policy sees it.
    """


class CountingReader(io.RawIOBase):
    """A raw stream over ``stream`` that counts the bytes read (``count``).

    With ``seekable=True`` it seeks when ``stream`` does (a local file), so Parquet can be read
    through it in place; decompressed data never seeks (gzip "seeks" by decompressing again).
    """

    def __init__(
        self, stream: IO[bytes], *, source_errors: bool = False, seekable: bool = False
    ) -> None:
        self._stream = stream
        self._seekable = seekable
        # read1 returns what one underlying read gives, so the bytes decoded before a
        # damaged spot are handed out before the error (read(n) would drop them)
        self._read = getattr(stream, "read1", stream.read)
        self._source_errors = source_errors
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable and bool(getattr(self._stream, "seekable", lambda: False)())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell() if self.seekable() else self.count

    def readinto(self, buffer: Any) -> int:
        try:
            chunk = self._read(len(buffer))
        except Exception as error:
            if self._source_errors:
                raise SourceStreamError(f"reading the file failed: {error}") from error
            raise
        n = len(chunk)
        buffer[:n] = chunk
        self.count += n
        return n


class BlockReader(io.RawIOBase):
    """A raw stream of the blocks ``next_block`` decodes (None at the end). A block may set
    ``_error``: it is raised once the bytes decoded before the damage are read."""

    def __init__(self) -> None:
        self._pending = memoryview(b"")
        self._error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def next_block(self) -> bytes | None:
        raise NotImplementedError

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self._error is not None:
                raise self._error
            block = self.next_block()
            if block is None:
                return 0
            self._pending = memoryview(block)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class ZstdReader(BlockReader):
    """Zstandard frames (one or more, concatenated) from ``stream``.

    ``zstandard``'s own stream reader returns a cut-off frame's bytes without complaint; this
    one raises ``EOFError`` then, like ``gzip``, ``bz2`` and ``lzma`` do.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        import zstandard

        super().__init__()
        self._stream = stream
        self._context = zstandard.ZstdDecompressor()
        self._frame = self._context.decompressobj()
        self._in_frame = False

    def next_block(self) -> bytes | None:
        data = self._stream.read(READ_SIZE)
        if not data:
            if self._in_frame:
                raise EOFError("zstd data ended before the end of its frame")
            return None
        return self._decompress(data)

    def _decompress(self, data: bytes) -> bytes:
        import zstandard

        out: list[bytes] = []
        while data:
            try:
                out.append(self._frame.decompress(data))
            except zstandard.ZstdError as error:
                if not out:
                    raise
                self._error = error  # first hand out the frames decoded before the damage
                break
            self._in_frame = not self._frame.eof
            if not self._frame.eof:
                break
            data = self._frame.unused_data  # the next frame starts here
            self._frame = self._context.decompressobj()
        return b"".join(out)


def _zstd(stream: IO[bytes]) -> IO[bytes]:
    return io.BufferedReader(ZstdReader(stream), READ_SIZE)  # type: ignore[arg-type, return-value]


# The caller owns (and closes) the underlying stream; the wrappers hold no other resource.
DECOMPRESSORS: dict[str, Callable[[IO[bytes]], IO[bytes]]] = {
    ".gz": lambda stream: gzip.GzipFile(fileobj=stream, mode="rb"),  # noqa: SIM115
    ".bz2": lambda stream: bz2.BZ2File(stream, mode="rb"),  # noqa: SIM115
    ".xz": lambda stream: lzma.LZMAFile(stream, mode="rb"),  # noqa: SIM115
    ".zst": _zstd,
}


def split_compression(name: str) -> tuple[str, str | None]:
    """``'a/x.jsonl.gz'`` -> ``('a/x.jsonl', '.gz')``; no known compression -> ``(name, None)``."""
    lower = name.lower()
    for suffix in DECOMPRESSORS:
        if lower.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, None


def decompression_errors() -> tuple[type[BaseException], ...]:
    """Exceptions a decompressor raises on damaged data (``EOFError`` when it is cut off)."""
    import zlib

    import zstandard

    return (EOFError, OSError, zlib.error, lzma.LZMAError, zstandard.ZstdError)
