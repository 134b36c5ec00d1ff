"""The quality constraint excludes exactly the right pairs; the split is seeded and order-free."""

from __future__ import annotations

import random

import pytest

from scar_dagster.ranker.data.quadruple import (
    Quadruple,
    excluded_counts,
    fingerprint_quadruples,
    pair_allowed,
    pair_mask,
    split_quadruples,
)


def quad(
    i: int = 0,
    q=(9.0, 9.0, 9.0),
    human="short answer",
    referenced="A plain sentence.",
    direct="- a bullet",
) -> Quadruple:
    return Quadruple(f"instruction {i}", human, referenced, direct, *q)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (quad(), (True, True, True)),
        (quad(q=(5.0, 9.0, 9.0)), (True, False, False)),  # human at threshold: not > 5
        (quad(q=(5.01, 9.0, 9.0)), (True, True, True)),
        (quad(q=(9.0, 4.0, 9.0)), (False, False, True)),
        (quad(q=(9.0, 9.0, 0.0)), (False, True, False)),
        (quad(referenced="- a  bullet\n", direct="- a bullet"), (False, True, True)),
        (quad(human="A plain sentence.", referenced="A plain   sentence."), (True, False, True)),
    ],
)
def test_quality_constraint_mask(record, expected):
    assert pair_mask([record]) == [expected]


def test_threshold_is_a_parameter_and_counts_are_per_pair_type():
    record = quad(q=(6.0, 7.0, 8.0))
    assert pair_allowed(record, "direct", "human", threshold=5.0)
    assert not pair_allowed(record, "direct", "human", threshold=6.0)
    records = [quad(), quad(q=(5.0, 9.0, 9.0)), quad(referenced="- a bullet")]
    assert excluded_counts(records) == {
        "direct>referenced": 1,
        "referenced>human": 1,
        "direct>human": 1,
    }


def test_split_is_80_10_10_disjoint_seeded_and_independent_of_input_order():
    records = [quad(i) for i in range(50)]
    split = split_quadruples(records, seed=7)
    assert (len(split.train), len(split.val), len(split.test)) == (40, 5, 5)
    assert sorted(split.train + split.val + split.test, key=lambda q: q.instruction) == sorted(
        records, key=lambda q: q.instruction
    )
    shuffled = records[:]
    random.Random(1).shuffle(shuffled)
    assert split_quadruples(shuffled, seed=7) == split
    assert split_quadruples(records, seed=8) != split


def test_small_inputs_still_get_validation_and_test():
    split = split_quadruples([quad(i) for i in range(3)])
    assert (len(split.train), len(split.val), len(split.test)) == (1, 1, 1)


def test_fingerprint_ignores_order_but_not_content_or_settings():
    records = [quad(i) for i in range(5)]
    assert fingerprint_quadruples(records) == fingerprint_quadruples(records[::-1])
    assert fingerprint_quadruples(records) != fingerprint_quadruples(records[:4])
    assert fingerprint_quadruples(records, {"lr": 1}) != fingerprint_quadruples(records, {"lr": 2})
