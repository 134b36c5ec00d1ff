"""Jobs, sensors and schedules of this code location, built from the library's factories."""

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    define_asset_job,
)

from assets import features, finetune, ingest, ranker, scoring, selection
from scar_dagster.partitions import data_source_partitions
from scar_dagster.schedules import build_recuration_schedule
from scar_dagster.sensors import build_fine_tune_sensor, build_landing_zone_sensor

ingest_job = define_asset_job(
    "ingest_job",
    selection=AssetSelection.groups(ingest.GROUP),
    description="Read one data source from the landing zone into raw_pairs and raw_quarantine.",
)
source_features_job = define_asset_job(
    "source_features_job",
    selection=AssetSelection.groups(ingest.GROUP, features.GROUP),
    description="Ingest one data source and compute its style features.",
)
ranker_job = define_asset_job(
    "ranker_job",
    selection=AssetSelection.groups(ranker.GROUP),
    description="Build the training quadruples and train a challenger StyleRanker.",
)
scoring_job = define_asset_job(
    "scoring_job",
    selection=AssetSelection.groups(scoring.GROUP),
    description="Score one source's pairs with the champion ranker (only pairs not yet scored).",
)
selection_job = define_asset_job(
    "selection_job",
    selection=AssetSelection.groups(selection.GROUP),
    description="Select, explain, export and check the subset across all sources.",
)
fine_tune_job = define_asset_job(
    "fine_tune_job",
    selection=AssetSelection.groups(finetune.GROUP),
    description="Fine-tune on the latest subset version (launched by fine_tune_sensor).",
)

recuration_job = define_asset_job(
    "recuration_job",
    selection=AssetSelection.groups(scoring.GROUP),
    description="Periodic re-curation, one run per source: re-score what the champion has not "
    "scored; selected_subset's eager condition then re-selects and re-runs its checks.",
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

JOBS = [
    ingest_job,
    source_features_job,
    ranker_job,
    scoring_job,
    selection_job,
    fine_tune_job,
    recuration_job,
]
SENSORS = [landing_zone_sensor, fine_tune_sensor, automation_sensor]
recuration_schedule = build_recuration_schedule(recuration_job, data_source_partitions)

SCHEDULES = [recuration_schedule]
