"""The scar_dagster code location: assets, checks, jobs, sensors, schedules and resources."""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions, load_asset_checks_from_modules, load_assets_from_modules
from dagster_aws.s3 import S3Resource

import assets.subset_evaluation as subset_evaluation
import settings
from assets import evaluation, features, finetune, ingest, jobs, ranker, scoring, selection
from scar_dagster.dagster.io_managers import JsonIOManager, ParquetIOManager
from scar_dagster.dagster.resources import (
    CheckThresholdsResource,
    DatabaseResource,
    EncoderResource,
    FineTuneResource,
    InstructLMResource,
    LLMEndpointResource,
    StorageResource,
)

PROJECT_DIR = Path(__file__).resolve().parent
STAGES = [ingest, features, ranker, scoring, selection, evaluation, finetune, subset_evaluation]
SHARDED_STAGES = [features, scoring]  # partitioned by source x shard with SCAR_SHARDS > 1


def build_resources(
    home: str | None = None, landing: str | None = None, database_url: str | None = None
) -> dict:
    """Resources with embedded local defaults (see ``settings``)."""
    home = home or settings.scar_home(PROJECT_DIR)
    s3 = S3Resource()
    storage = StorageResource(
        root=home, landing_zone=landing or settings.landing_zone(PROJECT_DIR), s3=s3
    )
    return {
        "s3": s3,
        "storage": storage,
        "io_manager": ParquetIOManager(storage=storage),
        "json_io_manager": JsonIOManager(storage=storage),
        "database": DatabaseResource(url=database_url or settings.database_url(home)),
        "encoder": EncoderResource(),
        "instruct_lm": InstructLMResource(cache_dir=settings.model_cache_dir(PROJECT_DIR)),
        "llm_endpoint": LLMEndpointResource(),
        "check_thresholds": CheckThresholdsResource(),
        "fine_tune": FineTuneResource(output_root=settings.finetune_dir(home)),
    }


def build_definitions(shards: int | None = None, resources: dict | None = None) -> Definitions:
    """The code location for ``shards`` shards per source (default ``$SCAR_SHARDS``, 1)."""
    shards = settings.shards() if shards is None else shards
    fixed = [stage for stage in STAGES if stage not in SHARDED_STAGES]
    return Definitions(
        assets=[
            *load_assets_from_modules(fixed),
            features.style_features_asset(shards),
            scoring.scored_pairs_asset(shards),
        ],
        asset_checks=[
            *load_asset_checks_from_modules(fixed),
            *features.style_features_checks(shards),
        ],
        jobs=jobs.build_jobs(shards),
        sensors=jobs.SENSORS,
        schedules=jobs.build_schedules(shards),
        resources=build_resources() if resources is None else resources,
    )


defs = build_definitions()
