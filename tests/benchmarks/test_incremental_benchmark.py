"""The incremental benchmark scores only the fifth source's new pairs (tiny encoder, no timings)."""

from __future__ import annotations

from benchmarks import incremental


def test_second_pass_scores_only_the_new_pairs(tmp_path):
    result = incremental.run(40, tmp_path, seed=0, tiny=True)
    full, again = result["full"], result["incremental"]
    assert (full.sources, again.sources) == (4, 5)
    assert full.scored == full.pool > 0 and full.reused == 0
    assert again.scored == again.pool - full.pool > 0
    assert again.reused == full.pool
