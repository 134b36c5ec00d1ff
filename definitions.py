"""The scar_dagster code location: assets, checks, jobs, sensors, schedules and resources."""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions, load_asset_checks_from_modules, load_assets_from_modules
from dagster_aws.s3 import S3Resource

import assets.selector_comparison as selector_comparison
import assets.subset_evaluation as subset_evaluation
import settings
from assets import evaluation, features, finetune, ingest, jobs, ranker, scoring, selection
from scar_dagster.dagster.executors import CelerySettings, K8sSettings, build_executor
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
# Stages whose assets and checks are module-level objects; the per-source features and scores
# are built for a shard count (features.style_features_asset, scoring.scored_pairs_asset).
FIXED_STAGES = [
    ingest,
    ranker,
    selection,
    evaluation,
    finetune,
    subset_evaluation,
    selector_comparison,
]


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


def celery_settings() -> CelerySettings:
    """The Celery broker, backend and visibility timeout from ``settings`` (the executor's and,
    through ``celery_worker.py``, every worker's)."""
    return CelerySettings(
        broker=settings.celery_broker(),
        backend=settings.celery_backend(),
        visibility_timeout_s=settings.celery_visibility_timeout(),
    )


def build_definitions(
    shards: int | None = None, resources: dict | None = None, executor: str | None = None
) -> Definitions:
    """The code location for ``shards`` shards per source (default ``$SCAR_SHARDS``, 1) whose
    steps run on ``executor`` (default ``$SCAR_EXECUTOR``, ``multiprocess``): the one place
    both are read; every shard-dependent object is built here for the shard count."""
    shards = settings.shards() if shards is None else shards
    executor = settings.executor() if executor is None else executor
    executor_def = build_executor(
        executor,
        celery=celery_settings() if executor == "celery" else None,
        k8s=K8sSettings(gpu_node_selector=settings.k8s_gpu_node_selector()),
    )
    job_defs = jobs.build_jobs(shards)
    return Definitions(
        assets=[
            *load_assets_from_modules(FIXED_STAGES),
            features.style_features_asset(shards),
            scoring.scored_pairs_asset(shards),
        ],
        asset_checks=[
            *load_asset_checks_from_modules(FIXED_STAGES),
            *features.style_features_checks(shards),
        ],
        jobs=job_defs,
        sensors=jobs.build_sensors(job_defs),
        schedules=jobs.build_schedules(shards, job_defs),
        resources=build_resources() if resources is None else resources,
        executor=executor_def,
    )


defs = build_definitions()
