"""Scoring reports pairs scored / total per chunk to the log it is given."""

from scar_dagster.ranker.inference.scoring import score_pairs
from tests.log_sink import Lines


def test_scoring_logs_pairs_done_over_total(tiny_ranker):
    model, tokenizer = tiny_ranker
    xs = [f"Question {i}?" for i in range(5)]
    ys = [f"Answer {i}." for i in range(5)]
    lines = Lines()
    scores = score_pairs(model, tokenizer, xs, ys, chunk_size=2, log=lines)
    assert len(scores) == 5
    (final,) = [m for m in lines.messages if "done in" in m]
    assert final.startswith("scoring: 5/5 pairs (100.0%)")
