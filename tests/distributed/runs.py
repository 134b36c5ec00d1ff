"""Runs of ``tests/distributed/location.py`` launched as a run worker would: each orchestrator
process (a spawned pool process with its own environment) calls ``dagster.execute_job`` on the
reconstructable job against the instance of its ``DAGSTER_HOME`` (PostgreSQL), so the executor
of ``SCAR_EXECUTOR`` runs the steps: with Celery, on the workers.

Each function returns plain values read from the event log: which Celery worker ran each step,
how often each step started, and the metadata the tests check.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any


def set_environment(env: dict[str, str]) -> None:
    """Pool initializer: this process's environment (before anything imports the location)."""
    os.environ.clear()
    os.environ.update(env)


def add_sources(sources: list[str]) -> None:
    """Register the dynamic ``data_source`` partitions on the shared instance."""
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("data_source", sources)


def run_job(
    job: str, partition: str | None, run_config: dict, assets: list[str] | None = None
) -> dict[str, Any]:
    """Execute ``location.<job>`` for ``partition`` (a ``source`` or ``source|shard`` key) and
    report the run from its event log."""
    from dagster import AssetKey, DagsterEventType, DagsterInstance, execute_job, reconstructable

    from tests.distributed import location

    tags = {"dagster/partition": partition} if partition else None
    selection = [AssetKey(name) for name in assets] if assets else None
    with DagsterInstance.get() as instance:
        result = execute_job(
            reconstructable(getattr(location, job)),
            instance,
            run_config=run_config,
            tags=tags,
            asset_selection=selection,
        )
        records = instance.all_logs(result.run_id)
    workers, starts, metadata = [], Counter(), {}
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ENGINE_EVENT and event.step_key:
            found = (event.engine_event_data.metadata or {}).get("Celery worker")
            if found is not None:
                workers.append((event.step_key, str(found.value)))
        elif event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] += 1
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            name = materialization.asset_key.to_user_string()
            metadata[name] = {k: _plain(v.value) for k, v in materialization.metadata.items()}
    return {
        "job": job,
        "partition": partition,
        "run_id": result.run_id,
        "success": result.success,
        "workers": workers,
        "starts": dict(starts),
        "metadata": metadata,
    }


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
