"""Give memory freed by a long step's phases back to the operating system.

Arrow's allocator (mimalloc or jemalloc) and glibc's malloc both keep freed pages for reuse, so
a process that built and dropped a million-row table still holds them as resident memory, and
the next phase's peak lands on top. Call ``release_unused_memory`` at the boundary between two
phases of a long step (as ``selection.curate`` does), not inside a phase. Measured in
``selected_subset`` at 1M pairs: 578 MB resident before deciding, of which 47 MB were live
Arrow buffers; 370 MB after ``release_unused_memory`` (``benchmarks/results.md``). Dask's
workers trim the same way."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable


def release_unused_memory() -> None:
    """Return the memory freed so far by Arrow's pool and by glibc's malloc to the OS (a
    no-op for an allocator without the call, e.g. musl or macOS)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim
