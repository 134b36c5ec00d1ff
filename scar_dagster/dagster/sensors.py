"""Sensor factories: the landing zone drives ingest; a passing subset drives fine-tuning."""

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetKey,
    DefaultSensorStatus,
    DynamicPartitionsDefinition,
    JobDefinition,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from scar_dagster.dagster.resources import StorageResource
from scar_dagster.ingest.landing import scan_landing_zone
from scar_dagster.storage.stores import ObjectInfo


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


def gate_status(
    instance: Any, asset_key: AssetKey, run_id: str, check_names: Iterable[str]
) -> tuple[str, list[str]]:
    """``("passed" | "failed" | "pending", problems)`` of the gate checks run in ``run_id``."""
    keys = [AssetCheckKey(asset_key, name) for name in check_names]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    problems, pending = [], False
    for key in keys:
        record = latest.get(key)
        if record is None or record.run_id != run_id:
            problems.append(f"{key.name} did not run with this materialization")
        elif record.status == AssetCheckExecutionRecordStatus.PLANNED:
            pending = True
        elif record.status != AssetCheckExecutionRecordStatus.SUCCEEDED:
            problems.append(f"{key.name} failed")
    if problems:
        return "failed", problems
    return ("pending" if pending else "passed"), []


def build_fine_tune_sensor(
    job: JobDefinition | Any,
    asset_key: AssetKey,
    check_names: Iterable[str],
    *,
    version_metadata_key: str = "subset_version",
    name: str = "fine_tune_sensor",
    minimum_interval_seconds: int = 30,
    default_status: DefaultSensorStatus = DefaultSensorStatus.RUNNING,
) -> SensorDefinition:
    """A sensor launching ``job`` once per new subset version whose gate checks all passed.

    ``run_key`` is the subset version, so Dagster never launches two runs for one version;
    a version whose blocking checks failed (or did not run) launches nothing, and says why.
    """
    check_names = tuple(check_names)

    @sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Launches fine-tuning exactly once per new subset version that passed its "
        "blocking checks.",
    )
    def _fine_tune_sensor(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        records = context.instance.fetch_materializations(asset_key, limit=1).records
        if not records:
            return SkipReason(f"{asset_key.to_user_string()} has not been materialized")
        record = records[0]
        if context.cursor and int(context.cursor) >= record.storage_id:
            return SkipReason("no new subset materialization")
        metadata = record.asset_materialization.metadata
        version = metadata[version_metadata_key].value
        status, problems = gate_status(context.instance, asset_key, record.run_id, check_names)
        if status == "pending":
            return SkipReason(f"subset {version}: checks still running")
        cursor = str(record.storage_id)
        if status == "failed":
            message = f"subset {version} not fine-tuned: " + "; ".join(problems)
            context.log.warning(message)
            return SensorResult(skip_reason=SkipReason(message), cursor=cursor)
        return SensorResult(
            run_requests=[RunRequest(run_key=version, tags={"scar/subset_version": version})],
            cursor=cursor,
        )

    return _fine_tune_sensor
