"""Seeded bottom-k samples: uniform, deterministic, independent of order, and coordinated (the
samples of overlapping sets share their rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scar_dagster.style.sampling import bottom_k, sample_keys

IDS = [f"{i:024x}" for i in range(20_000)]


def test_keys_are_seeded_and_do_not_depend_on_order_or_container():
    keys = sample_keys(IDS[:100], seed=0)
    assert keys.dtype == np.uint64 and len(set(keys.tolist())) == 100
    np.testing.assert_array_equal(sample_keys(pd.Series(IDS[:100], dtype="str")), keys)
    np.testing.assert_array_equal(sample_keys(IDS[:100][::-1])[::-1], keys)
    assert not np.array_equal(sample_keys(IDS[:100], seed=1), keys)


def test_a_sample_is_k_rows_of_its_set_and_every_row_when_it_is_smaller():
    among = np.zeros(len(IDS), dtype=bool)
    among[::3] = True
    chosen = bottom_k(IDS, 500, among=among)
    assert chosen.sum() == 500 and not (chosen & ~among).any()
    assert bottom_k(IDS[:10], 50).all() and not bottom_k(IDS[:10], 0).any()
    with pytest.raises(ValueError, match="k must be"):
        bottom_k(IDS, -1)


def test_a_sample_is_spread_uniformly():
    chosen = np.flatnonzero(bottom_k(IDS, 2000))
    counts = np.bincount(chosen * 10 // len(IDS), minlength=10)  # ten equal slices of the ids
    assert counts.min() > 150 and counts.max() < 250  # 200 expected per slice


def test_samples_of_overlapping_sets_share_their_rows():
    """The sample of the whole set, restricted to a part, is in the part's sample: values
    computed for one sample serve the others (coordinated sampling)."""
    rng = np.random.default_rng(0)
    part = rng.random(len(IDS)) < 0.25  # e.g. a selected subset
    whole = bottom_k(IDS, 2000)
    of_part = bottom_k(IDS, 2000, among=part)
    assert not (whole & part & ~of_part).any()
    assert (whole & of_part).sum() == (whole & part).sum() > 400
    ordered = bottom_k(IDS[::-1], 2000)[::-1]
    np.testing.assert_array_equal(ordered, whole)  # the same rows whatever the order
