"""The benchmarks' champion: a seeded StyleRanker with a random head, published into a storage
root as the ``style_ranker`` asset would leave it, so ``scored_pairs`` (or ``score_new_pairs``)
scores with it. A random head costs the same to run as a trained one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def publish_champion(
    home: str | Path,
    work: str | Path,
    *,
    tiny: bool,
    fingerprint: str | None = None,
    **config: Any,
) -> str:
    """Publish a seeded ranker into the store at ``home`` and make it the champion; return its
    version.

    ``tiny``: a 1-layer random BERT encoder (hidden size 32) instead of all-MiniLM-L6-v2;
    ``config``: ``RankerConfig`` fields (e.g. ``max_length=64``); ``fingerprint``: the training
    fingerprint hashed into the version (default ``bench-random-head-tiny=<tiny>``). The
    checkpoint is written under ``work/checkpoint`` first. Also writes the registry's champion
    record and ``assets/style_ranker.json`` (the asset's value: ``{"champion_version": ...}``).
    """
    import torch

    from scar_dagster.ranker.model import registry
    from scar_dagster.ranker.model.architecture import RankerConfig, build_ranker, build_tiny_ranker
    from scar_dagster.ranker.model.checkpoint import save_checkpoint
    from scar_dagster.storage.stores import LocalStore

    torch.manual_seed(0)
    ranker_config = RankerConfig(**config)
    model, tokenizer = (build_tiny_ranker if tiny else build_ranker)(ranker_config)
    folder = Path(work) / "checkpoint"
    version = save_checkpoint(
        model,
        ranker_config,
        folder,
        training_fingerprint=fingerprint or f"bench-random-head-tiny={tiny}",
        tokenizer=tokenizer,
    )
    store = LocalStore(home)
    registry.publish_checkpoint(store, folder, version)
    registry.write_champion(store, {"version": version, "val_accuracy": 1.0})
    champion = json.dumps({"champion_version": version}).encode()
    store.write_bytes("assets/style_ranker.json", champion)
    return version
