"""Embedded defaults, each overridable by one environment variable.

``SCAR_HOME`` (storage root, default ``./.scar_home``), ``SCAR_LANDING_ZONE`` (default the
bundled ``data/sample``), ``SCAR_DATABASE_URL`` (default a SQLite file in ``SCAR_HOME``) and
``SCAR_SHARDS`` (shards per source for features and scores, default 1).
"""

from __future__ import annotations

import os
from pathlib import Path


def scar_home(project_dir: Path) -> str:
    """The storage root: ``$SCAR_HOME`` or ``<project>/.scar_home``."""
    return os.environ.get("SCAR_HOME") or str(project_dir / ".scar_home")


def landing_zone(project_dir: Path) -> str:
    """The landing zone: ``$SCAR_LANDING_ZONE`` or the bundled sample data."""
    return os.environ.get("SCAR_LANDING_ZONE") or str(project_dir / "data" / "sample")


def database_url(home: str) -> str:
    """The scores database: ``$SCAR_DATABASE_URL`` or a SQLite file under the storage root."""
    if os.environ.get("SCAR_DATABASE_URL"):
        return os.environ["SCAR_DATABASE_URL"]
    if home.startswith("s3://"):
        return "sqlite:///" + str(Path.cwd() / ".scar_home" / "scar.db")
    return "sqlite:///" + str(Path(home) / "scar.db")


def model_cache_dir(project_dir: Path) -> str:
    """Converted models: ``$SCAR_MODEL_CACHE`` or ``<project>/.scar_home/models``."""
    return os.environ.get("SCAR_MODEL_CACHE") or str(project_dir / ".scar_home" / "models")


def finetune_dir(home: str) -> str:
    """Local folder for fine-tuned models (next to the storage root, or in the cwd for S3)."""
    base = Path.cwd() / ".scar_home" if home.startswith("s3://") else Path(home)
    return str(base / "finetune")


def shards() -> int:
    """Shards per source for ``style_features`` and ``scored_pairs``: ``$SCAR_SHARDS`` or 1.

    1 keeps them partitioned by source alone; N > 1 partitions them by source x shard so that
    the N shards of a source run in parallel (one run each)."""
    text = os.environ.get("SCAR_SHARDS", "").strip() or "1"
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"SCAR_SHARDS must be a whole number >= 1, got {text!r}")
    return int(text)
