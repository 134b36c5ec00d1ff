"""The planted pipeline (2 sources x 4 shards) run through a Celery cluster, and the same
pipeline through the multiprocess executor, for the distributed tests and the benchmark.

``Cluster`` starts what the runs share (Redis, the S3 bucket with the landing zone and the
training quadruples, PostgreSQL databases for the instance and the scores) and the workers;
``run_pipeline`` launches the runs from two orchestrator processes at once, each run's steps
going to whichever worker is free.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tests.distributed.cluster import (
    ROOT,
    ProcessDirs,
    RedisServer,
    Worker,
    create_database,
    save_tiny_lm,
)
from tests.distributed.runs import add_sources, run_job, set_environment
from tests.pipeline import run_config, write_landing, write_quadruples

SOURCES = ("forum", "guides")
SHARDS = 4
BUCKET = "scar-cluster"


def upload_inputs(client: Any, work: Path, prefix: str) -> str:
    """The planted landing zone and the quadruples in ``s3://BUCKET/<prefix>``; returns the
    quadruples' URI."""
    local = work / "inputs"
    write_landing(local / "landing")
    write_quadruples(local / "quads.jsonl")
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        client.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(local).as_posix()}")
    return f"s3://{BUCKET}/{prefix}/quads.jsonl"


def pipeline_config(quadruples: str) -> dict[str, dict]:
    """Run config by job: the pipeline tests' (top 8, a 2-epoch ranker), float32 scores."""
    ops = run_config(quadruples, top_k=8)["ops"]  # type: ignore[arg-type]
    ops["scored_pairs"] = {"config": {"dtype": "float32"}}
    by_job = {
        "ranker_job": ("ranker_training_data", "style_ranker"),
        "scoring_job": ("scored_pairs",),
        "selection_job": ("selected_subset",),
    }
    return {job: {"ops": {op: ops[op] for op in names}} for job, names in by_job.items()}


def shared_env(
    *,
    executor: str,
    home: str,
    landing: str,
    database: str,
    s3_endpoint: str,
    redis: str = "",
    shards: int = SHARDS,
) -> dict[str, str]:
    """What every process of one deployment shares: settings, credentials, the code."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "SCAR_EXECUTOR": executor,
        "SCAR_HOME": home,
        "SCAR_LANDING_ZONE": landing,
        "SCAR_DATABASE_URL": database,
        "SCAR_SHARDS": str(shards),
        "SCAR_RETRY_DELAY_SECONDS": "0.05",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "NO_PROXY": "127.0.0.1,localhost",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    if redis:
        env.update(SCAR_CELERY_BROKER=f"{redis}/0", SCAR_CELERY_BACKEND=f"{redis}/1")
    return env


@contextmanager
def orchestrators(dirs: ProcessDirs, env: dict[str, str], yaml: str, processes: int = 2):
    """``processes`` spawned run workers, each with ``dirs``' environment."""
    context = get_context("spawn")
    with ProcessPoolExecutor(
        processes,
        mp_context=context,
        initializer=set_environment,
        initargs=(dirs.env(env, yaml),),
    ) as pool:
        yield pool


def launch_partitioned(pool: ProcessPoolExecutor, job: str, keys: list[str], config: dict):
    return [pool.submit(run_job, job, key, config) for key in keys]


def partition_keys(shards: int = SHARDS) -> list[str]:
    if shards == 1:
        return list(SOURCES)
    return [f"{source}|{shard}" for source in SOURCES for shard in range(shards)]


def run_pipeline(
    pool: ProcessPoolExecutor,
    config: dict[str, dict],
    on_scoring: Any = None,
    before_selection: Any = None,
    shards: int = SHARDS,
) -> dict[str, dict]:
    """ingest (per source) -> ranker -> features (per shard) -> scores (per shard) ->
    selection (with one shard, ``source_features_job`` ingests and featurizes a source in one
    run after the ranker); ``on_scoring(futures)`` runs while the scoring runs are in flight
    and ``before_selection(pool, config)`` replaces the launch of the selection run (it
    returns its future)."""
    pool.submit(add_sources, list(SOURCES)).result()
    results: dict[str, dict] = {}
    keys = partition_keys(shards)

    def collect(futures: list[Future]) -> None:
        for future in futures:
            result = future.result()
            results[f"{result['job']}/{result['partition']}"] = result

    if shards > 1:
        collect([pool.submit(run_job, "ingest_job", source, {}) for source in SOURCES])
    collect([pool.submit(run_job, "ranker_job", None, config["ranker_job"])])
    collect(launch_partitioned(pool, "source_features_job", keys, {}))
    scoring = launch_partitioned(pool, "scoring_job", keys, config["scoring_job"])
    if on_scoring is not None:
        on_scoring(scoring)
    collect(scoring)
    selection = (before_selection or launch_selection)(pool, config)
    collect([selection])
    return results


def launch_selection(pool: ProcessPoolExecutor, config: dict[str, dict]) -> Future:
    return pool.submit(run_job, "selection_job", None, config["selection_job"], ["selected_subset"])


class Cluster:
    """Redis, two workers and their private folders for one deployment."""

    def __init__(self, work: Path, env: dict[str, str], yaml: str, redis: RedisServer) -> None:
        self.work, self.env, self.yaml, self.redis = work, env, yaml, redis
        self.workers: dict[str, Worker] = {}

    def add_worker(self, name: str, extra_env: dict[str, str] | None = None) -> Worker:
        dirs = ProcessDirs(self.work / name)
        save_tiny_lm(dirs.root / "models")
        worker = Worker(name, dirs, {**dirs.env(self.env, self.yaml), **(extra_env or {})})
        worker.start()
        self.workers[name] = worker
        return worker

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()


def deployment_databases(postgres_url: str, name: str) -> tuple[str, str]:
    """``(instance URL, scores URL)``: two fresh databases named after ``name``."""
    instance = create_database(postgres_url, f"{name}_instance")
    scores = create_database(postgres_url, f"{name}_scores")
    return instance, scores.replace("+psycopg2://", "+psycopg://", 1)
