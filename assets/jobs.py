"""Jobs, sensors and schedules of this code location, built from the library's factories."""

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    define_asset_job,
)

import settings
from assets import evaluation, features, finetune, ingest, ranker, scoring, selection
from scar_dagster.dagster.partitions import data_source_partitions, source_partitions
from scar_dagster.dagster.schedules import build_recuration_schedule
from scar_dagster.dagster.sensors import build_fine_tune_sensor, build_landing_zone_sensor


def _group_job(name: str, groups: list[str], description: str):
    """An asset job over whole asset groups (their checks included)."""
    return define_asset_job(name, selection=AssetSelection.groups(*groups), description=description)


ingest_job = _group_job(
    "ingest_job",
    [ingest.GROUP],
    "Read one data source from the landing zone into raw_pairs and raw_quarantine.",
)


def source_features_job_for(shards: int):
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


source_features_job = source_features_job_for(settings.shards())
ranker_job = _group_job(
    "ranker_job",
    [ranker.GROUP],
    "Build the training quadruples and train a challenger StyleRanker.",
)
scoring_job = _group_job(
    "scoring_job",
    [scoring.GROUP],
    "Score one source's pairs with the champion ranker (only pairs not yet scored).",
)
selection_job = _group_job(
    "selection_job",
    [selection.GROUP, evaluation.GROUP],
    "Select, explain, export and check the subset across all sources; evaluate the ranker "
    "and the subset's consistency against random subsets.",
)
fine_tune_job = _group_job(
    "fine_tune_job",
    [finetune.GROUP],
    "Fine-tune on the latest subset version (launched by fine_tune_sensor).",
)
recuration_job = _group_job(
    "recuration_job",
    [scoring.GROUP],
    "Periodic re-curation, one run per source (per shard with SCAR_SHARDS > 1): re-score what "
    "the champion has not scored; selected_subset's eager condition then re-selects and re-runs "
    "its checks.",
)

landing_zone_sensor = build_landing_zone_sensor(ingest_job, data_source_partitions)
fine_tune_sensor = build_fine_tune_sensor(
    fine_tune_job, AssetKey("selected_subset"), selection.GATE_CHECKS
)
automation_sensor = AutomationConditionSensorDefinition(
    "default_automation_condition_sensor",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
)


def build_jobs(shards: int) -> list:
    """Every job, for ``shards`` shards per source."""
    return [
        ingest_job,
        source_features_job if shards == settings.shards() else source_features_job_for(shards),
        ranker_job,
        scoring_job,
        selection_job,
        fine_tune_job,
        recuration_job,
    ]


def build_schedules(shards: int) -> list:
    """The re-curation schedule: one run per partition of ``scored_pairs`` (source x shard)."""
    return [build_recuration_schedule(recuration_job, source_partitions(shards))]


JOBS = build_jobs(settings.shards())
SENSORS = [landing_zone_sensor, fine_tune_sensor, automation_sensor]
SCHEDULES = build_schedules(settings.shards())
recuration_schedule = SCHEDULES[0]
