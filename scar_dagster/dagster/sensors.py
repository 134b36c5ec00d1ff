"""Sensor factories: the landing zone drives ingest; a passing subset drives fine-tuning."""

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    DynamicPartitionsDefinition,
    JobDefinition,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from scar_dagster.dagster.ingest_metadata import ingested_signature, source_signature
from scar_dagster.dagster.metadata import latest_metadata
from scar_dagster.dagster.resources import StorageResource
from scar_dagster.ingest.landing import SourceListing, scan_landing_zone
from scar_dagster.ingest.source_config import CONFIG_FILE, config_sha256
from scar_dagster.storage.stores import BlobStore

SUBSET_VERSION_TAG = "scar/subset_version"
_NOT_FAILED = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.SUCCESS,
]


def config_fingerprint(store: BlobStore, source: str, listing: SourceListing) -> str | None:
    """The sha256 of the source's ``scar_source.toml`` bytes (None without one)."""
    if listing.config is None:
        return None
    return config_sha256(store.read_bytes(f"{source}/{CONFIG_FILE}"))


def differing_files(current: dict[str, str], ingested: dict[str, str]) -> list[str]:
    """Files that are new, changed or removed since ``ingested``."""
    return sorted(
        key for key in current.keys() | ingested.keys() if current.get(key) != ingested.get(key)
    )


def run_key_for(source: str, ingested: dict[str, str], current: dict[str, str]) -> str:
    """A run key from the source, the signature last ingested and the one to ingest now.

    The same change always gets the same key, so the daemon launches it once however often it
    is requested; a later change (even back to an earlier state) gets a new one."""
    text = json.dumps([source, sorted(ingested.items()), sorted(current.items())])
    return f"{source}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def build_landing_zone_sensor(
    job: JobDefinition | Any,
    partitions_def: DynamicPartitionsDefinition,
    *,
    asset: str = "raw_pairs",
    name: str = "landing_zone_sensor",
    minimum_interval_seconds: int = 30,
    default_status: DefaultSensorStatus = DefaultSensorStatus.RUNNING,
) -> SensorDefinition:
    """A sensor that adds a partition per new source folder and ingests new or changed files.

    What decides is the latest materialization of ``asset`` for the source: its metadata lists
    the files it read with size and version, the paths it skipped and the sha256 of the
    ``scar_source.toml`` in force (``ingest_metadata.source_signature``), and a run is requested
    only when the landing zone differs from that (a file new, changed or removed, the config
    edited), however the data got there (this sensor, ``make demo``, a run launched by hand).
    The cursor (``source -> signature`` last seen) only saves the instance query for unchanged
    sources; losing it costs one query per source. One run per source and change, with a run
    key derived from it. Folders with invalid names are logged and skipped.
    """

    @sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Registers new data sources from the landing zone and ingests new or "
        f"changed files or configs (compared with what the latest {asset} materialization "
        "read).",
    )
    def _landing_zone_sensor(
        context: SensorEvaluationContext, storage: StorageResource
    ) -> SensorResult:
        store = storage.landing_store()
        scan = scan_landing_zone(store)
        for problem in sorted(scan.rejected.values()):
            context.log.warning(f"skipping landing-zone folder: {problem}")
        for key in scan.stray:
            context.log.warning(f"skipping {key!r}: files must sit inside a source folder")
        last_seen: dict[str, dict[str, str]] = json.loads(context.cursor) if context.cursor else {}
        seen = {
            source: source_signature(listing, config_fingerprint(store, source, listing))
            for source, listing in scan.sources.items()
        }
        existing = set(context.instance.get_dynamic_partitions(partitions_def.name))
        new_sources = sorted(source for source in scan.sources if source not in existing)
        run_requests = []
        for source, current in sorted(seen.items()):
            if last_seen.get(source) == current:
                continue
            metadata = (
                latest_metadata(context.instance, asset, source) if source in existing else None
            )
            ingested = ingested_signature(metadata)
            changed = differing_files(current, ingested)
            if not changed:
                continue
            run_requests.append(
                RunRequest(
                    run_key=run_key_for(source, ingested, current),
                    partition_key=source,
                    tags={"scar/changed_files": str(len(changed))},
                )
            )
        return SensorResult(
            run_requests=run_requests,
            dynamic_partitions_requests=(
                [partitions_def.build_add_request(new_sources)] if new_sources else []
            ),
            cursor=json.dumps(seen, sort_keys=True),
        )

    return _landing_zone_sensor


def gate_status(
    instance: Any, asset_key: AssetKey, run_id: str, check_names: Iterable[str]
) -> tuple[str, list[str]]:
    """``("passed" | "failed" | "pending", problems)`` of the gate checks run in ``run_id``.

    A check's latest execution record holds its ``AssetCheckEvaluation`` once it ran, and the
    planned event before (dagster exports no public status enum for these records)."""
    problems, pending = [], False
    for name in check_names:
        record = instance.get_latest_asset_check_evaluation_record(AssetCheckKey(asset_key, name))
        if record is None or record.run_id != run_id:
            problems.append(f"{name} did not run with this materialization")
        elif not isinstance(record.evaluation, AssetCheckEvaluation):
            pending = True
        elif not record.evaluation.passed:
            problems.append(f"{name} failed")
    if problems:
        return "failed", problems
    return ("pending" if pending else "passed"), []


def fine_tuned_already(instance: Any, job_name: str, version: str) -> bool:
    """True when a run of ``job_name`` for subset ``version`` succeeded or is under way, whoever
    launched it (this sensor, ``make demo``, the UI with the ``scar/subset_version`` tag)."""
    runs = RunsFilter(job_name=job_name, tags={SUBSET_VERSION_TAG: version}, statuses=_NOT_FAILED)
    return instance.get_runs_count(filters=runs) > 0


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

    ``run_key`` is the subset version, so Dagster never launches two runs for one version,
    and a version that a run of ``job`` tagged with it already fine-tuned (``make demo`` tags
    its run so) launches nothing, whatever the cursor says. A version whose blocking checks
    failed (or did not run) launches nothing either, and says why.
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
        cursor = str(record.storage_id)
        if fine_tuned_already(context.instance, job.name, version):
            return SensorResult(
                skip_reason=SkipReason(f"subset {version} is already fine-tuned"), cursor=cursor
            )
        status, problems = gate_status(context.instance, asset_key, record.run_id, check_names)
        if status == "pending":
            return SkipReason(f"subset {version}: checks still running")
        if status == "failed":
            message = f"subset {version} not fine-tuned: " + "; ".join(problems)
            context.log.warning(message)
            return SensorResult(skip_reason=SkipReason(message), cursor=cursor)
        return SensorResult(
            run_requests=[RunRequest(run_key=version, tags={SUBSET_VERSION_TAG: version})],
            cursor=cursor,
        )

    return _fine_tune_sensor
