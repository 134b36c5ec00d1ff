"""Ranker checkpoints in a store, and which one is the champion that scoring uses.

Layout under the storage root: ``rankers/<version>/<files>`` with a ``_SUCCESS`` marker
written last, and ``rankers/champion.json`` naming the promoted version. Loading copies a
version into a local cache folder (verified against the marker's sha256 list) first, then
loads it once per process. Importing this module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from scar_dagster.storage.stores import SUCCESS_MARKER, BlobStore, read_marker, write_marked_folder

PREFIX = "rankers"
CHAMPION_KEY = f"{PREFIX}/champion.json"


def publish_checkpoint(store: BlobStore, local_dir: str | Path, version: str) -> str:
    """Copy a checkpoint folder into the store as ``rankers/<version>``; return its URI."""
    folder = f"{PREFIX}/{version}"
    if read_marker(store, folder) is None:
        payloads = {
            path.relative_to(local_dir).as_posix(): path.read_bytes()
            for path in sorted(Path(local_dir).rglob("*"))
            if path.is_file()
        }
        write_marked_folder(store, folder, payloads, ranker_version=version)
    return store.uri(folder)


def fetch_checkpoint(store: BlobStore, version: str, cache_dir: str | Path) -> Path:
    """A local folder holding checkpoint ``version``, downloaded and verified once."""
    target = Path(cache_dir) / version
    if (target / SUCCESS_MARKER).is_file():
        return target
    folder = f"{PREFIX}/{version}"
    manifest = read_marker(store, folder)
    if manifest is None:
        raise FileNotFoundError(f"no complete ranker checkpoint at {store.uri(folder)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=target.parent))
    try:
        for name, entry in sorted(manifest["files"].items()):
            data = store.read_bytes(f"{folder}/{name}")
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                from scar_dagster.ranker.model.checkpoint import CheckpointError

                raise CheckpointError(f"checkpoint file {store.uri(f'{folder}/{name}')} is corrupt")
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        (staging / SUCCESS_MARKER).write_text(json.dumps(manifest, sort_keys=True))
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / SUCCESS_MARKER).is_file():  # else a concurrent fetch won: same bytes
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@lru_cache(maxsize=4)
def load_fetched_checkpoint(folder: str) -> tuple[Any, Any, dict]:
    """``load_checkpoint`` of a folder ``fetch_checkpoint`` made, once per process."""
    from scar_dagster.ranker.model.checkpoint import load_checkpoint  # imports torch

    # Only a run with an explicit trust_remote_code (training or import) writes a checkpoint
    # that needs it.
    return load_checkpoint(folder, trust_remote_code=True)


def load_from_store(store: BlobStore, version: str, cache_dir: str | Path) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a published checkpoint, fetched and verified once per process."""
    folder = fetch_checkpoint(store, version, Path(cache_dir) / "rankers")
    model, tokenizer, _ = load_fetched_checkpoint(str(folder))
    return model, tokenizer


def read_champion(store: BlobStore) -> dict[str, Any] | None:
    """The champion record (version, metrics, promoted_at), or None before the first one."""
    if not store.exists(CHAMPION_KEY):
        return None
    return json.loads(store.read_bytes(CHAMPION_KEY))


def write_champion(store: BlobStore, record: dict[str, Any]) -> None:
    """Make ``record['version']`` the champion."""
    store.write_bytes(CHAMPION_KEY, (json.dumps(record, sort_keys=True, indent=2) + "\n").encode())
