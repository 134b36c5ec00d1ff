"""Scoring with a ranker version kept in the store: fetched, verified, loaded and converted for
inference once per process (``scar_dagster.ranker.model.registry`` holds the checkpoints)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from scar_dagster.precision import resolve_precision
from scar_dagster.ranker.inference.scoring import for_inference
from scar_dagster.ranker.model import registry
from scar_dagster.storage.stores import BlobStore


@lru_cache(maxsize=4)
def _cached_scorer(folder: str, device: str, dtype: str) -> Any:
    model, _, _ = registry.load_fetched_checkpoint(folder)
    return for_inference(model, device, dtype)


def load_scorer(
    store: BlobStore,
    version: str,
    cache_dir: str | Path,
    *,
    device: str = "cpu",
    dtype: str = "float32",
) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of ranker ``version`` converted for inference on ``device`` in
    ``dtype``; fetched, verified and converted once per process (then cached)."""
    precision = resolve_precision(device, dtype)
    folder = registry.fetch_checkpoint(store, version, Path(cache_dir) / "rankers")
    _, tokenizer, _ = registry.load_fetched_checkpoint(str(folder))
    return _cached_scorer(str(folder), precision.device, precision.dtype), tokenizer
