"""What every benchmark prints beside its figures: the CPU and its flags, the load, matmul
throughput per dtype, and how well bf16 results agree with fp32 (rank correlation, top share)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence


def machine_line() -> str:
    """CPU model, cores and relevant flags, and the 1/5/15-minute load averages."""
    from scar_dagster.precision import cpu_summary

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"CPU: {cpu_summary()}; load average (1/5/15 min) {load}"


def matmul_gflops(
    dtype: str = "float32", n: int = 1024, repeats: int = 30, rounds: int = 5
) -> float:
    """Best-of-``rounds`` throughput of an n x n matmul in ``dtype``, in GFLOP/s."""
    import torch

    kind = getattr(torch, dtype)
    a, b = torch.randn(n, n).to(kind), torch.randn(n, n).to(kind)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - t0) / 1e9)
    return best


def rank_agreement(
    reference: Sequence[float], other: Sequence[float], top: float = 0.25
) -> tuple[float, float]:
    """Spearman correlation of ``other`` with ``reference`` and the overlap of their top ``top``
    shares (ties broken by index, as selection does)."""
    import numpy as np
    import pandas as pd

    ref, oth = np.asarray(reference, dtype=float), np.asarray(other, dtype=float)
    spearman = float(pd.Series(ref).corr(pd.Series(oth), method="spearman"))
    k = max(1, int(len(ref) * top))
    best_ref = set(np.lexsort((np.arange(len(ref)), -ref))[:k].tolist())
    best_oth = set(np.lexsort((np.arange(len(oth)), -oth))[:k].tolist())
    return spearman, len(best_ref & best_oth) / k
