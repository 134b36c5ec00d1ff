"""Embedded defaults, each overridable by one environment variable.

``SCAR_HOME`` (storage root, default ``./.scar_home``), ``SCAR_LANDING_ZONE`` (default the
bundled ``data/sample``), ``SCAR_DATABASE_URL`` (default a SQLite file in ``SCAR_HOME``),
``SCAR_SHARDS`` (shards per source for features and scores, default 1) and ``SCAR_EXECUTOR``
(where steps run: ``multiprocess``, the default, ``celery`` or ``k8s``; see docs/deploy.md) with
its settings ``SCAR_CELERY_BROKER``, ``SCAR_CELERY_BACKEND``,
``SCAR_CELERY_VISIBILITY_TIMEOUT`` and ``SCAR_K8S_GPU_NODE_SELECTOR``.
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


def executor() -> str:
    """Where steps run: ``$SCAR_EXECUTOR`` (``multiprocess``, ``celery`` or ``k8s``) or
    ``multiprocess``."""
    from scar_dagster.dagster.executors import check_executor

    text = os.environ.get("SCAR_EXECUTOR", "").strip() or "multiprocess"
    try:
        return check_executor(text)
    except ValueError as error:
        raise ValueError(f"SCAR_EXECUTOR: {error}") from None


def celery_broker() -> str:
    """The Celery broker: ``$SCAR_CELERY_BROKER`` or Redis on ``127.0.0.1:6379``, database 0."""
    return os.environ.get("SCAR_CELERY_BROKER") or "redis://127.0.0.1:6379/0"


def celery_backend() -> str:
    """The Celery result backend: ``$SCAR_CELERY_BACKEND`` or the broker's Redis, database 1."""
    if os.environ.get("SCAR_CELERY_BACKEND"):
        return os.environ["SCAR_CELERY_BACKEND"]
    broker = celery_broker()
    base, _, database = broker.rpartition("/")
    return f"{base}/1" if broker.startswith("redis") and database.isdigit() else broker


def celery_visibility_timeout() -> int:
    """Seconds after which Redis hands a step that no worker acknowledged (its worker died) to
    another worker: ``$SCAR_CELERY_VISIBILITY_TIMEOUT`` or 21600 (6 hours). Keep it above the
    longest step: a step still running then is handed out a second time."""
    text = os.environ.get("SCAR_CELERY_VISIBILITY_TIMEOUT", "").strip() or "21600"
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"SCAR_CELERY_VISIBILITY_TIMEOUT must be seconds >= 1, got {text!r}")
    return int(text)


def k8s_gpu_node_selector() -> dict[str, str]:
    """Node labels of the GPU pods for scoring and fine-tuning under ``k8s``:
    ``$SCAR_K8S_GPU_NODE_SELECTOR`` as ``key=value[,key=value]``, or none (no GPU pods)."""
    text = os.environ.get("SCAR_K8S_GPU_NODE_SELECTOR", "").strip()
    labels = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"SCAR_K8S_GPU_NODE_SELECTOR wants key=value pairs, got {item!r}")
        labels[key.strip()] = value.strip()
    return labels
