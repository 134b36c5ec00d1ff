"""Sensor factories: the landing zone drives partitions and ingest runs."""

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from dagster import (
    DefaultSensorStatus,
    DynamicPartitionsDefinition,
    JobDefinition,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from scar_dagster.ingest.landing import scan_landing_zone
from scar_dagster.io.storage import ObjectInfo
from scar_dagster.resources import StorageResource


def file_signature(info: ObjectInfo) -> str:
    """What identifies one version of a file: size and change token (mtime or ETag)."""
    return f"{info.size}:{info.version}"


def changed_files(files: Iterable[ObjectInfo], known: dict[str, str]) -> list[ObjectInfo]:
    """Files whose signature differs from the one recorded in the cursor."""
    return [info for info in files if known.get(info.key) != file_signature(info)]


def run_key_for(source: str, changed: list[ObjectInfo]) -> str:
    """A run key from the source and every changed file's path, size and version."""
    text = "\n".join(f"{info.key}\x1f{file_signature(info)}" for info in changed)
    return f"{source}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def build_landing_zone_sensor(
    job: JobDefinition | Any,
    partitions_def: DynamicPartitionsDefinition,
    *,
    name: str = "landing_zone_sensor",
    minimum_interval_seconds: int = 30,
    default_status: DefaultSensorStatus = DefaultSensorStatus.RUNNING,
) -> SensorDefinition:
    """A sensor that adds a partition per new source folder and ingests new or changed files.

    The cursor maps ``source -> file -> size:version``; one run per source and tick covers
    all of its changed files, with a run key derived from them, so a file version is never
    ingested twice. Folders with invalid names are logged and skipped.
    """

    @sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Registers new data sources from the landing zone and ingests new or "
        "changed files.",
    )
    def _landing_zone_sensor(
        context: SensorEvaluationContext, storage: StorageResource
    ) -> SensorResult:
        scan = scan_landing_zone(storage.landing_store())
        for problem in sorted(scan.rejected.values()):
            context.log.warning(f"skipping landing-zone folder: {problem}")
        for key in scan.stray:
            context.log.warning(f"skipping {key!r}: files must sit inside a source folder")
        known: dict[str, dict[str, str]] = json.loads(context.cursor) if context.cursor else {}
        existing = set(context.instance.get_dynamic_partitions(partitions_def.name))
        new_sources = sorted(source for source in scan.files if source not in existing)
        run_requests = []
        for source, files in sorted(scan.files.items()):
            changed = changed_files(files, known.get(source, {}))
            if not changed:
                continue
            run_requests.append(
                RunRequest(
                    run_key=run_key_for(source, changed),
                    partition_key=source,
                    tags={"scar/changed_files": str(len(changed))},
                )
            )
            known[source] = {info.key: file_signature(info) for info in files}
        return SensorResult(
            run_requests=run_requests,
            dynamic_partitions_requests=(
                [partitions_def.build_add_request(new_sources)] if new_sources else []
            ),
            cursor=json.dumps(known, sort_keys=True),
        )

    return _landing_zone_sensor
