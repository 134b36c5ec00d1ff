"""rank_and_filter: top-k / ratio / threshold as in SCAR's toolkit, ties by input order."""

from __future__ import annotations

import pytest

from scar_dagster.ranker.inference.toolkit import (
    check_selection,
    filter_ranked,
    rank_and_filter,
    rank_pairs,
)

XS = ["a", "b", "c", "d", "e"]
YS = ["A", "B", "C", "D", "E"]
SCORES = [0.5, 2.0, 0.5, -1.0, 1.0]


def test_rank_pairs_orders_by_score_then_input_index():
    ranked = rank_pairs(XS, YS, SCORES)
    assert [x for x, _, _ in ranked] == ["b", "e", "a", "c", "d"]
    assert ranked[0] == ("b", "B", 2.0)
    assert [x for x, _, _ in rank_pairs(["p", "q"], ["P", "Q"], [float("nan"), 0.0])] == ["q", "p"]


@pytest.mark.parametrize(
    ("kwargs", "kept"),
    [
        ({"topk": 2}, ["b", "e"]),
        ({"topk": 0}, []),
        ({"topk": 99}, ["b", "e", "a", "c", "d"]),
        ({"ratio": 0.6}, ["b", "e", "a"]),
        ({"ratio": 0.5}, ["b", "e"]),  # floor(2.5), as the reference's int()
        ({"ratio": 1.0}, ["b", "e", "a", "c", "d"]),
        ({"threshold": 0.5}, ["b", "e", "a", "c"]),  # >=, ties kept in input order
        ({"threshold": 5.0}, []),
    ],
)
def test_filter_semantics(kwargs, kept):
    assert [x for x, _, _ in filter_ranked(rank_pairs(XS, YS, SCORES), **kwargs)] == kept


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"topk": 1, "ratio": 0.5},
        {"topk": 1, "threshold": 0.0},
        {"ratio": 0.1, "threshold": 0.0},
        {"topk": -1},
        {"topk": 1.5},
        {"topk": True},
        {"ratio": 1.5},
        {"threshold": float("nan")},
    ],
)
def test_exactly_one_valid_selection_is_required(kwargs):
    with pytest.raises(ValueError):
        check_selection(**kwargs)
    with pytest.raises(ValueError):  # fails before any model is loaded
        rank_and_filter("/nonexistent", XS, YS, **kwargs)


def test_end_to_end_with_a_saved_checkpoint(tmp_path, tiny_ranker):
    from scar_dagster.ranker.inference.scoring import score_pairs
    from scar_dagster.ranker.model.architecture import RankerConfig
    from scar_dagster.ranker.model.checkpoint import CheckpointError, save_checkpoint

    model, tokenizer = tiny_ranker
    save_checkpoint(
        model, RankerConfig(hidden_dim=16, max_length=64), tmp_path / "ck", training_fingerprint="t"
    )
    xs = ["How?", "Why?", "What?", "How?"]
    ys = ["- step one\n- step two", "because", "It is a thing.", "- step one\n- step two"]
    expected = score_pairs(model, tokenizer, xs, ys).tolist()
    everything = rank_and_filter(tmp_path / "ck", xs, ys, ratio=1.0, batch_size=2)
    assert [s for _, _, s in everything] == sorted(expected, reverse=True)
    first, last = everything[0], everything[-1]
    assert first[2] >= last[2]
    # the duplicated pair ties; input order decides
    dup = [i for i, row in enumerate(everything) if row[:2] == ("How?", "- step one\n- step two")]
    assert dup == [dup[0], dup[0] + 1]
    assert len(rank_and_filter(tmp_path / "ck", xs, ys, topk=1)) == 1
    with pytest.raises(CheckpointError):
        rank_and_filter(tmp_path / "missing", xs, ys, topk=1)
