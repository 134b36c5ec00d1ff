"""Each SCAR loss term equals a hand computation on a tiny batch."""

from __future__ import annotations

import math

import pytest
import torch

from scar_dagster.ranker.model.losses import ranking_loss, scar_loss, triplet_loss

SCORES = {
    "direct": torch.tensor([2.0, 0.1, 1.0]),
    "referenced": torch.tensor([1.0, 0.3, 1.2]),
    "human": torch.tensor([0.8, 0.0, -1.0]),
}
# columns: direct>referenced, referenced>human, direct>human
MASKS = torch.tensor([[True, True, True], [True, False, True], [False, True, True]])


def _hinge(better: float, worse: float, margin: float) -> float:
    return max(0.0, margin - (better - worse))


def _vectors(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(3, 4, generator=g) for k in ("direct", "referenced", "human")}


def _triplet(a: torch.Tensor, p: torch.Tensor, n: torch.Tensor, margin: float) -> float:
    d_ap = math.dist(a.tolist(), p.tolist())
    d_an = math.dist(a.tolist(), n.tolist())
    return max(0.0, d_ap - d_an + margin)


def test_ranking_term_is_mean_hinge_over_allowed_pairs():
    d, r = SCORES["direct"], SCORES["referenced"]
    got = ranking_loss(d, r, MASKS[:, 0], margin=0.5)
    expected = (_hinge(2.0, 1.0, 0.5) + _hinge(0.1, 0.3, 0.5)) / 2
    assert got is not None and float(got) == pytest.approx(expected)
    assert ranking_loss(d, r, torch.zeros(3, dtype=torch.bool)) is None


def test_triplet_term_is_mean_over_masked_rows():
    a, p, n = _vectors(0)["direct"], _vectors(1)["direct"], _vectors(2)["direct"]
    mask = torch.tensor([True, False, True])
    got = triplet_loss(a, p, n, mask, margin=1.0)
    expected = (_triplet(a[0], p[0], n[0], 1.0) + _triplet(a[2], p[2], n[2], 1.0)) / 2
    assert got is not None and float(got) == pytest.approx(expected, abs=1e-5)


def test_scar_loss_combines_terms_like_the_reference():
    v_c, v_p = _vectors(3), _vectors(4)
    out = scar_loss(SCORES, v_c, v_p, MASKS)
    rank_dr = (_hinge(2.0, 1.0, 0.5) + _hinge(0.1, 0.3, 0.5)) / 2
    rank_rh = (_hinge(1.0, 0.8, 0.5) + _hinge(1.2, -1.0, 0.5)) / 2
    rank_dh = (_hinge(2.0, 0.8, 0.5) + _hinge(0.1, 0.0, 0.5) + _hinge(1.0, -1.0, 0.5)) / 3
    # Only quadruple 0 has all three pairs allowed: the triplets use it alone.
    t_c = _triplet(v_c["referenced"][0], v_c["human"][0], v_c["direct"][0], 1.0)
    t_p = _triplet(v_p["direct"][0], v_p["referenced"][0], v_p["human"][0], 1.0)
    expected = rank_dr + rank_rh + rank_dh + 0.1 * (t_c + t_p) / 2
    assert out.terms["rank_direct_referenced"] == pytest.approx(rank_dr)
    assert out.terms["rank_referenced_human"] == pytest.approx(rank_rh)
    assert out.terms["rank_direct_human"] == pytest.approx(rank_dh)
    assert out.terms["triplet_c"] == pytest.approx(t_c, abs=1e-5)
    assert out.terms["triplet_p"] == pytest.approx(t_p, abs=1e-5)
    assert out.total is not None and float(out.total) == pytest.approx(expected, abs=1e-5)


def test_no_allowed_pair_gives_no_loss():
    v = _vectors(5)
    out = scar_loss(SCORES, v, v, torch.zeros(3, 3, dtype=torch.bool))
    assert out.total is None and out.terms["total"] == 0.0


def test_loss_backpropagates_to_scores():
    scores = {k: v.clone().requires_grad_(True) for k, v in SCORES.items()}
    out = scar_loss(scores, _vectors(6), _vectors(7), MASKS)
    assert out.total is not None
    out.total.backward()
    assert scores["direct"].grad is not None and scores["direct"].grad.abs().sum() > 0
