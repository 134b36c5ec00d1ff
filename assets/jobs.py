"""Jobs, sensors and schedules of this code location, built from the library's factories."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from assets import features, ingest
from scar_dagster.partitions import data_source_partitions
from scar_dagster.sensors import build_landing_zone_sensor

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

landing_zone_sensor = build_landing_zone_sensor(ingest_job, data_source_partitions)

JOBS = [ingest_job, source_features_job]
SENSORS = [landing_zone_sensor]
SCHEDULES: list = []
