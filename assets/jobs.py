"""Jobs, sensors and schedules of this code location, built from the library's factories.

Nothing here is built at import: ``definitions.build_definitions(shards)`` builds them for its
shard count, so one process can hold code locations with different shard counts.
"""

from collections.abc import Sequence
from typing import Any

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    ScheduleDefinition,
    SensorDefinition,
    define_asset_job,
)

from assets import (
    evaluation,
    features,
    finetune,
    ingest,
    ranker,
    scoring,
    selection,
    selector_comparison,
    subset_evaluation,
)
from scar_dagster.dagster.partitions import data_source_partitions, source_partitions
from scar_dagster.dagster.schedules import build_recuration_schedule
from scar_dagster.dagster.sensors import build_fine_tune_sensor, build_landing_zone_sensor

SENSOR_INTERVAL_SECONDS = 30
AssetJob = Any  # what define_asset_job returns; Definitions resolves it against the assets


def _group_job(name: str, groups: list[str], description: str) -> AssetJob:
    """An asset job over whole asset groups (their checks included)."""
    return define_asset_job(name, selection=AssetSelection.groups(*groups), description=description)


def _source_features_job(shards: int) -> AssetJob:
    """Ingest and features of one source in one run; with shards, the features of one shard
    (a run has one partition key, and ingest is per source)."""
    if shards == 1:
        return _group_job(
            "source_features_job",
            [ingest.GROUP, features.GROUP],
            "Ingest one data source and compute its style features.",
        )
    return _group_job(
        "source_features_job",
        [features.GROUP],
        "Compute the style features of one shard of a data source (ingest it with ingest_job).",
    )


def build_jobs(shards: int) -> list[AssetJob]:
    """Every job, for ``shards`` shards per source."""
    return [
        _group_job(
            "ingest_job",
            [ingest.GROUP],
            "Read one data source from the landing zone into raw_pairs and raw_quarantine.",
        ),
        _source_features_job(shards),
        _group_job(
            "ranker_job",
            [ranker.GROUP],
            "Build the training quadruples and train a challenger StyleRanker.",
        ),
        _group_job(
            "scoring_job",
            [scoring.GROUP],
            "Score one source's pairs with the champion ranker (only pairs not yet scored).",
        ),
        _group_job(
            "selection_job",
            [selection.GROUP, evaluation.GROUP],
            "Select, explain, export and check the subset across all sources; evaluate the "
            "ranker and the subset's consistency against random subsets.",
        ),
        _group_job(
            "fine_tune_job",
            [finetune.GROUP],
            "Fine-tune on the latest subset version (launched by fine_tune_sensor).",
        ),
        _group_job(
            "subset_evaluation_job",
            [subset_evaluation.GROUP],
            "On demand: fine-tune on the SCAR subset, a same-size random subset and the pool, "
            "answer held-out instructions and judge the answers (needs llm_endpoint).",
        ),
        _group_job(
            "selector_comparison_job",
            [selector_comparison.GROUP],
            "On demand: every configured selector's subset of the pool side by side.",
        ),
        _group_job(
            "recuration_job",
            [scoring.GROUP],
            "Periodic re-curation, one run per source (per shard with SCAR_SHARDS > 1): re-score "
            "what the champion has not scored; selected_subset's eager condition then re-selects "
            "and re-runs its checks.",
        ),
    ]


def _by_name(jobs: Sequence[AssetJob]) -> dict[str, AssetJob]:
    return {job.name: job for job in jobs}


def build_sensors(
    jobs: Sequence[AssetJob],
    *,
    minimum_interval_seconds: int = SENSOR_INTERVAL_SECONDS,
) -> list[SensorDefinition]:
    """The landing-zone sensor (launches ``ingest_job``), the fine-tune sensor (launches
    ``fine_tune_job`` for a subset that passed its gate checks) and the automation-condition
    sensor, each evaluated every ``minimum_interval_seconds``; ``jobs`` from ``build_jobs``."""
    named = _by_name(jobs)
    return [
        build_landing_zone_sensor(
            named["ingest_job"],
            data_source_partitions,
            minimum_interval_seconds=minimum_interval_seconds,
        ),
        build_fine_tune_sensor(
            named["fine_tune_job"],
            AssetKey("selected_subset"),
            selection.GATE_CHECKS,
            minimum_interval_seconds=minimum_interval_seconds,
        ),
        AutomationConditionSensorDefinition(
            "default_automation_condition_sensor",
            target=AssetSelection.all(),
            default_status=DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=minimum_interval_seconds,
        ),
    ]


def build_schedules(shards: int, jobs: Sequence[AssetJob]) -> list[ScheduleDefinition]:
    """The re-curation schedule: one run of ``recuration_job`` per partition of ``scored_pairs``
    (source x shard); ``jobs`` from ``build_jobs(shards)``."""
    return [build_recuration_schedule(_by_name(jobs)["recuration_job"], source_partitions(shards))]
