"""The code location of the distributed tests: the real graph with tiny, fast models.

Assets, checks, jobs, IO managers, storage, database and executor are the real ones of
``definitions.build_definitions`` (storage, database, shard count and executor from
``SCAR_HOME``, ``SCAR_LANDING_ZONE``, ``SCAR_DATABASE_URL``, ``SCAR_SHARDS`` and
``SCAR_EXECUTOR``; S3 through ``AWS_ENDPOINT_URL_S3``). Only these differ:

- ``instruct_lm`` is the seeded tiny Llama of ``tests/tiny_models.py``, saved in each process's
  own model cache (``$SCAR_MODEL_CACHE/tiny-llama``) in float32;
- ``check_thresholds`` accepts any validation accuracy (the ranker trains for 2 epochs) and any
  std ratio (the tiny LM's perplexities are noise, so the style gate would block the run).

The module-level functions return the jobs for ``dagster.reconstructable``: an orchestrator
and every Celery worker import this module and build the same definitions.
"""

from pathlib import Path

import definitions
import settings
from scar_dagster.dagster.resources import CheckThresholdsResource, InstructLMResource
from tests.distributed.cluster import TINY_LM


def _resources() -> dict:
    res = definitions.build_resources()
    cache = settings.model_cache_dir(definitions.PROJECT_DIR)
    res["instruct_lm"] = InstructLMResource(
        model=str(Path(cache) / TINY_LM), cache_dir=cache, dtype="float32"
    )
    res["check_thresholds"] = CheckThresholdsResource(
        min_validation_accuracy=0.0, max_std_ratio=1e6
    )
    return res


defs = definitions.build_definitions(resources=_resources())


def ingest_job():
    return defs.get_job_def("ingest_job")


def source_features_job():
    return defs.get_job_def("source_features_job")


def ranker_job():
    return defs.get_job_def("ranker_job")


def scoring_job():
    return defs.get_job_def("scoring_job")


def selection_job():
    return defs.get_job_def("selection_job")
