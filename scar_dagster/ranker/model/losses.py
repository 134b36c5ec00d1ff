"""SCAR training losses: pairwise margin ranking plus triplet representation losses.

Follows the reference trainer: each ranking term is torch's ``MarginRankingLoss`` (mean over the
pairs the quality constraint allows in the batch), the three terms are summed; the triplet terms
(``TripletMarginLoss``, Euclidean distance, mean) run on the quadruples whose three pairs are all
allowed, and enter as ``weight * (triplet_c + triplet_p) / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scar_dagster.ranker.data.quadruple import PAIR_TYPES

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class LossTerms:
    """The total loss (a graph tensor, or None when no pair is allowed) and its float parts."""

    total: torch.Tensor | None
    terms: dict[str, float]


def ranking_loss(
    better: torch.Tensor, worse: torch.Tensor, mask: torch.Tensor, margin: float = 0.5
) -> torch.Tensor | None:
    """Mean of ``max(0, margin - (better - worse))`` over ``mask``; None if the mask is empty."""
    import torch.nn.functional as F

    if not bool(mask.any()):
        return None
    b, w = better[mask], worse[mask]
    return F.margin_ranking_loss(b, w, b.new_ones(b.shape), margin=margin)


def triplet_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    mask: torch.Tensor,
    margin: float = 1.0,
) -> torch.Tensor | None:
    """Mean triplet margin loss (p=2, as torch's default) over ``mask``; None if empty."""
    import torch.nn.functional as F

    if not bool(mask.any()):
        return None
    return F.triplet_margin_loss(anchor[mask], positive[mask], negative[mask], margin=margin, p=2)


def scar_loss(
    scores: dict[str, torch.Tensor],
    v_c: dict[str, torch.Tensor],
    v_p: dict[str, torch.Tensor],
    masks: torch.Tensor,
    *,
    margin: float = 0.5,
    triplet_margin: float = 1.0,
    triplet_weight: float = 0.1,
) -> LossTerms:
    """Combine the SCAR loss terms for one batch.

    Args:
        scores, v_c, v_p: per response kind (``direct``, ``referenced``, ``human``), [B] or [B, H].
        masks: bool [B, 3], one column per ``PAIR_TYPES`` entry (direct>referenced,
            referenced>human, direct>human): the pairs the quality constraint allows.
    """
    parts: dict[str, float] = {}
    total = None
    for j, (better, worse) in enumerate(PAIR_TYPES):
        term = ranking_loss(scores[better], scores[worse], masks[:, j], margin)
        parts[f"rank_{better}_{worse}"] = 0.0 if term is None else float(term.detach())
        if term is not None:
            total = term if total is None else total + term
    common = masks.all(dim=1)
    t_c = triplet_loss(v_c["referenced"], v_c["human"], v_c["direct"], common, triplet_margin)
    t_p = triplet_loss(v_p["direct"], v_p["referenced"], v_p["human"], common, triplet_margin)
    parts["triplet_c"] = 0.0 if t_c is None else float(t_c.detach())
    parts["triplet_p"] = 0.0 if t_p is None else float(t_p.detach())
    if t_c is not None and t_p is not None:
        rep = triplet_weight * (t_c + t_p) / 2
        total = rep if total is None else total + rep
    parts["total"] = 0.0 if total is None else float(total.detach())
    return LossTerms(total=total, terms=parts)
