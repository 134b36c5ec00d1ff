"""The SCAR toolkit's quality-constraint modes (constraint_mode, constraint_min/max), each on
planted qualities, for quadruples and preference pairs."""

from __future__ import annotations

import pytest

from scar_dagster.ranker.data.preference import PreferencePair, allowed_mask
from scar_dagster.ranker.data.quadruple import (
    CONSTRAINT_MODES,
    Quadruple,
    QualityConstraint,
    as_constraint,
    excluded_counts,
    pair_allowed,
    pair_mask,
)
from scar_dagster.ranker.model.train import TrainParams


def quad(human: float, direct: float, *, same_text: bool = False) -> Quadruple:
    """A quadruple whose direct (better) and human (worse) answers have these qualities."""
    return Quadruple(
        "q", "- a bullet" if same_text else "short", "plain.", "- a bullet", human, 9.0, direct
    )


# (mode, min, max, better quality, worse quality, allowed), following the toolkit's definitions.
CASES = [
    ("abs", 5, 8, 7, 6, True),
    ("abs", 5, 8, 9, 6, False),  # the better one is not below max
    ("abs", 5, 8, 7, 5, False),  # the worse one is not above min
    ("abs_pos", 5, 8, 7, 1, True),  # only the better one is checked
    ("abs_pos", 5, 8, 9, 7, False),
    ("abs_pos", 5, 8, 5, 9, False),
    ("diff", 5, 3, 2, 1, True),  # max bounds the difference; min is not used
    ("diff", 5, 3, 9, 1, False),
    ("diff", 5, 3, 1, 9, False),  # the difference is absolute
    ("abs_diff", 5, 3, 6, 7, True),
    ("abs_diff", 5, 3, 4, 3, False),  # close, but below min
    ("abs_diff", 5, 3, 9, 5.5, False),  # above min, but 3.5 apart
    ("none", 5, 8, 0, 0, True),
]


@pytest.mark.parametrize(("mode", "low", "high", "better", "worse", "allowed"), CASES)
def test_each_mode_allows_exactly_the_toolkits_pairs(mode, low, high, better, worse, allowed):
    constraint = QualityConstraint(low, mode, high)
    assert constraint.allows(better, worse) is allowed
    assert pair_allowed(quad(worse, better), "direct", "human", constraint) is allowed


@pytest.mark.parametrize("mode", CONSTRAINT_MODES)
def test_identical_texts_never_train_whatever_the_mode(mode):
    assert not pair_allowed(
        quad(7, 7, same_text=True), "direct", "human", QualityConstraint(5, mode)
    )


def test_the_defaults_are_the_papers_rule_and_a_number_still_means_it():
    default = QualityConstraint()
    assert (default.mode, default.min_quality, default.max_quality) == ("abs", 5.0, 10.0)
    assert as_constraint(6.0) == QualityConstraint(6.0)
    assert as_constraint(default) is default
    records = [quad(9, 9), quad(5, 9), quad(9, 0)]
    assert pair_mask(records, 5.0) == pair_mask(records, QualityConstraint())
    assert excluded_counts(records, QualityConstraint(mode="none")) == dict.fromkeys(
        ("direct>referenced", "referenced>human", "direct>human"), 0
    )
    assert excluded_counts(records, QualityConstraint(mode="abs_pos"))["direct>human"] == 1
    with pytest.raises(ValueError, match="constraint_mode must be one of"):
        QualityConstraint(mode="relative")


def test_preference_pairs_without_scores_pass_the_rules_that_read_them():
    def pair(chosen: float | None, quarantined: float | None) -> PreferencePair:
        return PreferencePair("q", "- a guide", "terse", chosen, quarantined)

    pairs = [pair(None, None), pair(9, 2), pair(None, 2), pair(2, None)]
    assert allowed_mask(pairs, QualityConstraint()) == [True, False, False, False]
    assert allowed_mask(pairs, QualityConstraint(mode="abs_pos")) == [True, True, True, False]
    assert allowed_mask(pairs, QualityConstraint(mode="diff", max_quality=3)) == [
        True,
        False,
        True,
        True,
    ]


def test_train_params_carry_the_constraint_and_reject_an_unknown_mode():
    params = TrainParams(quality_threshold=4.0, constraint_mode="abs_diff", constraint_max=2.0)
    assert params.constraint == QualityConstraint(4.0, "abs_diff", 2.0)
    with pytest.raises(ValueError, match="constraint_mode"):
        TrainParams(constraint_mode="strict")
