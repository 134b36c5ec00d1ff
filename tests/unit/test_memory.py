"""Freed memory goes back to the operating system on request."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from scar_dagster.memory import release_unused_memory


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_release_gives_back_what_arrow_and_malloc_keep_after_a_free():
    import pyarrow as pa

    release_unused_memory()
    base = _rss_mb()
    arrays = [pa.array(np.arange(i, i + 12_500)) for i in range(2_000)]  # 2,000 x 100 KB
    blobs = [bytes(50_000) + bytes([i % 256]) for i in range(4_000)]  # 200 MB from malloc
    del arrays, blobs
    held = _rss_mb() - base  # freed, but kept by the allocators for reuse
    release_unused_memory()
    assert held > 100, f"the allocators kept only {held:.0f} MB: nothing to show"
    assert _rss_mb() - base < held / 2
