"""The one description of the machine every benchmark prints beside its figures: CPU model,
cores and the flags that matter (AVX-512, AVX512-BF16, AMX), the load, and for the results
file RAM, OS and library versions; plus the machine's measured matmul throughput."""

from __future__ import annotations

import os
import platform
import time
from datetime import UTC, datetime
from importlib import metadata

LIBRARIES = ("torch", "transformers", "pandas", "pyarrow", "SQLAlchemy")


def load_average() -> str:
    """The 1/5/15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_line(when: str = "") -> str:
    """CPU model, cores and relevant flags, and the load averages (``when``: e.g. 'at the
    end')."""
    from scar_dagster.precision import cpu_summary

    at = f" {when}" if when else ""
    return f"CPU: {cpu_summary()}; load average{at} (1/5/15 min) {load_average()}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info(threads: int) -> list[str]:
    """Markdown bullet lines describing the machine and the software (the results header)."""
    from scar_dagster.precision import cpu_summary

    ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1024**3
    versions = ", ".join(f"{name} {_version(name)}" for name in LIBRARIES)
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu_summary()} (bf16 rows use AMX/AVX512-BF16 when listed)",
        f"- RAM: {ram:.1f} GiB",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}, {versions}",
        f"- threads: OMP_NUM_THREADS=MKL_NUM_THREADS={threads} for every benchmark",
        f"- load average (1 min) at start: {os.getloadavg()[0]:.2f}",
    ]


def matmul_gflops(
    dtype: str = "float32", n: int = 1024, repeats: int = 30, rounds: int = 5, device: str = "cpu"
) -> float:
    """Best-of-``rounds`` throughput of an n x n matmul in ``dtype`` on ``device``, in GFLOP/s."""
    import torch

    kind = getattr(torch, dtype)
    a, b = (torch.randn(n, n).to(device, kind) for _ in range(2))
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(rounds):
        sync()
        t0 = time.perf_counter()
        for _ in range(repeats):
            a @ b
        sync()
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - t0) / 1e9)
    return best
