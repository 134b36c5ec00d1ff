"""k-center greedy covers the pool within its radius, deterministically."""

import numpy as np
import pytest

from scar_dagster.selectors.diversity import k_center_greedy


def _points(n: int = 60, seed: int = 3) -> np.ndarray:
    points = np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


@pytest.mark.parametrize("k", [1, 5, 17])
def test_every_point_is_within_the_radius_of_a_pick(k):
    points = _points()
    order, radius = k_center_greedy(points, k)
    assert len(order) == k and len(set(order.tolist())) == k
    nearest = np.min(np.linalg.norm(points[:, None, :] - points[order][None], axis=2), axis=1)
    assert nearest.max() <= radius + 1e-5
    assert nearest.max() == pytest.approx(radius, abs=1e-5)  # the radius is attained


def test_the_greedy_is_deterministic_and_its_radius_shrinks_with_k():
    points = _points()
    first, radius_5 = k_center_greedy(points, 5)
    again, same = k_center_greedy(points.copy(), 5)
    assert first.tolist() == again.tolist() and radius_5 == same
    longer, radius_10 = k_center_greedy(points, 10)
    assert longer[:5].tolist() == first.tolist()  # a prefix: the greedy extends its picks
    assert radius_10 <= radius_5


def test_each_pick_is_the_point_farthest_from_the_earlier_picks():
    points = _points(30)
    order, _ = k_center_greedy(points, 6)
    for step in range(1, 6):
        picked = points[order[:step]]
        nearest = np.min(np.linalg.norm(points[:, None] - picked[None], axis=2), axis=1)
        assert nearest[order[step]] == pytest.approx(nearest.max(), abs=1e-6)


def test_picking_every_point_leaves_no_radius_and_ties_go_to_the_lowest_row():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    order, radius = k_center_greedy(points, 4)
    assert radius == 0.0 and sorted(order.tolist()) == [0, 1, 2, 3]
    assert order[:2].tolist() == [0, 1]  # centre first; rows 1 and 3 tie: row 1
    assert k_center_greedy(points, 0)[0].tolist() == []
