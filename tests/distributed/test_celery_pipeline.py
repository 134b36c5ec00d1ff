"""The pipeline on two real dagster-celery workers: every step in a worker, both busy, the
multiprocess run's subset, every pair featurized and scored once, a worker killed in the
middle of a scoring step, and a Redis restart while a run waits on a queued step.

One deployment: Redis (append-only file), two workers and two orchestrator processes, each with
its own working directory, HOME, TMPDIR, DAGSTER_HOME and model cache; assets and checkpoints on
S3 (moto), the Dagster instance and the scores in PostgreSQL. The runs are those of a user on
2 sources x 4 shards: ingest per source, the ranker, features and scores per shard, the
selection. The same data then goes through the multiprocess executor (the default deployment)
with one shard per source, on another storage root, instance and scores database: shards do not
change the subset (tests/dagster/test_shards_pipeline.py), and one shard keeps that run short.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from scar_dagster.sharding import shard_of
from tests.distributed.cluster import (
    ProcessDirs,
    RedisServer,
    instance_yaml,
    save_tiny_lm,
    wait_until,
)
from tests.distributed.pipeline import (
    BUCKET,
    SHARDS,
    SOURCES,
    Cluster,
    deployment_databases,
    launch_selection,
    orchestrators,
    pipeline_config,
    run_pipeline,
    shared_env,
    upload_inputs,
)

VISIBILITY_TIMEOUT_S = 40  # a lost step is handed to another worker this long after delivery
PAIRS = 15 + 16  # kept pairs of the planted forum and guides sources


def _kill_the_hanging_worker(cluster: Cluster, hang_dir: Path, killed: dict):
    """While the scoring runs are in flight: wait for a worker to hang inside a scoring
    write, then SIGKILL it."""

    def watch(futures):
        marker = hang_dir / "hanging"
        wait_until("a worker to hang in a scoring step", marker.exists, 300, interval_s=0.1)
        name = marker.read_text().split()[0]
        cluster.workers[name].kill()
        killed["name"] = name

    return watch


def _restart_redis_with_a_queued_step(cluster: Cluster, restarted: dict):
    """Stop the workers, launch the selection run, restart Redis while its step waits in the
    queue (no step running), then start the workers again (the killed w2 back as well)."""

    def launch(pool, config):
        for worker in cluster.workers.values():
            worker.stop()  # warm shutdown: nothing was running
        future = launch_selection(pool, config)
        wait_until("the selection step to be queued", lambda: cluster.redis.queued() > 0, 120)
        restarted["queued_before"] = cluster.redis.queued()
        cluster.redis.restart()
        restarted["queued_after"] = cluster.redis.queued()
        for worker in cluster.workers.values():
            worker.start()
        return future

    return launch


@pytest.fixture(scope="module")
def deployments(tmp_path_factory, s3_endpoint, postgres_url):
    """The pipeline through the Celery cluster (with the kill and the restart), then through
    the multiprocess executor."""
    pytest.importorskip("dagster_celery", reason="the [distributed] extra is not installed")
    pytest.importorskip("dagster_postgres", reason="the [distributed] extra is not installed")
    import boto3

    work = tmp_path_factory.mktemp("cluster")
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    quadruples = upload_inputs(client, work, "inputs")
    config = pipeline_config(quadruples)
    landing = f"s3://{BUCKET}/inputs/landing"
    out: dict = {"work": work, "client": client}

    redis = RedisServer(work / "redis")
    redis.start()
    instance_db, scores_db = deployment_databases(postgres_url, "celery")
    env = shared_env(
        executor="celery",
        home=f"s3://{BUCKET}/celery",
        landing=landing,
        database=scores_db,
        s3_endpoint=s3_endpoint,
        redis=f"redis://127.0.0.1:{redis.port}",
    )
    env["SCAR_CELERY_VISIBILITY_TIMEOUT"] = str(VISIBILITY_TIMEOUT_S)
    yaml = instance_yaml(instance_db)
    cluster = Cluster(work, env, yaml, redis)
    hang_dir = work / "hang"
    hang_dir.mkdir()
    killed, restarted = {}, {}
    try:
        for name in ("w1", "w2"):
            cluster.add_worker(name, {"SCAR_TEST_HANG_DIR": str(hang_dir)})
        dirs = ProcessDirs(work / "orchestrator")
        with orchestrators(dirs, env, yaml) as pool:
            out["celery"] = run_pipeline(
                pool,
                config,
                on_scoring=_kill_the_hanging_worker(cluster, hang_dir, killed),
                before_selection=_restart_redis_with_a_queued_step(cluster, restarted),
            )
        out.update(killed=killed, restarted=restarted, scores_db=scores_db)
        out["dirs"] = [dirs] + [w.dirs for w in cluster.workers.values()]
        out["hostnames"] = {w.hostname: name for name, w in cluster.workers.items()}
    finally:
        cluster.stop()
        redis.stop()

    instance_db, scores_db = deployment_databases(postgres_url, "multiprocess")
    env = shared_env(
        executor="multiprocess",
        home=f"s3://{BUCKET}/multiprocess",
        landing=landing,
        database=scores_db,
        s3_endpoint=s3_endpoint,
        shards=1,
    )
    dirs = ProcessDirs(work / "multiprocess")
    save_tiny_lm(dirs.root / "models")
    with orchestrators(dirs, env, instance_yaml(instance_db)) as pool:
        out["multiprocess"] = run_pipeline(pool, config, shards=1)
    out["multiprocess_scores_db"] = scores_db
    return out


def _steps(results: dict) -> list[tuple[str, str, str]]:
    """``(run, step, worker hostname)`` of every step a Celery worker started."""
    return [(key, step, host) for key, r in results.items() for step, host in r["workers"]]


def test_every_run_succeeds_on_both_executors(deployments):
    for executor in ("celery", "multiprocess"):
        failed = [key for key, r in deployments[executor].items() if not r["success"]]
        assert failed == [], (executor, failed)
    assert len(deployments["celery"]) == 2 + 1 + 2 * 2 * SHARDS + 1


def test_every_step_ran_in_a_worker_and_both_workers_took_steps(deployments):
    results = deployments["celery"]
    steps = _steps(results)
    hosts = deployments["hostnames"]
    assert {host for _, _, host in steps} <= set(hosts)
    per_worker = Counter(hosts[host] for _, _, host in steps)
    assert set(per_worker) == {"w1", "w2"}, per_worker
    for key, result in results.items():
        ran = {step for step, _ in result["workers"]}
        assert ran == set(result["starts"]), key  # every started step was a worker's


def test_no_step_ran_twice_but_the_killed_one(deployments):
    results = deployments["celery"]
    twice = [(k, step, n) for k, r in results.items() for step, n in r["starts"].items() if n > 1]
    assert len(twice) == 1, twice
    key, step, starts = twice[0]
    assert step == "scored_pairs" and starts == 2
    killed = deployments["killed"]["name"]
    hosts = deployments["hostnames"]
    workers = [hosts[host] for s, host in results[key]["workers"] if s == step]
    assert workers[0] == killed and workers[1] != killed  # retried on the other worker


def test_the_subset_is_the_multiprocess_runs(deployments):
    def subset(executor: str) -> tuple[str, int]:
        meta = deployments[executor]["selection_job/None"]["metadata"]["selected_subset"]
        return meta["subset_version"], meta["dagster/row_count"]

    assert subset("celery") == subset("multiprocess")
    assert subset("celery")[1] == 8


def test_every_pair_is_featurized_and_scored_once(deployments):
    from sqlalchemy import create_engine, text

    client = deployments["client"]
    results = deployments["celery"]
    for source in SOURCES:
        seen = []
        for shard in range(SHARDS):
            key = f"celery/assets/style_features/{source}/{shard}.parquet"
            body = client.get_object(Bucket=BUCKET, Key=key)["Body"]
            ids = pd.read_parquet(pd.io.common.BytesIO(body.read()))["id"].tolist()
            assert {shard_of(i, SHARDS) for i in ids} <= {shard}
            seen += ids
        assert len(seen) == len(set(seen))
    scored = [r["metadata"]["scored_pairs"] for k, r in results.items() if k.startswith("scoring")]
    assert sum(m["rows_scored"] for m in scored) == PAIRS  # the killed attempt wrote nothing
    assert sum(m["rows_reused"] for m in scored) == 0
    engine = create_engine(deployments["scores_db"])
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT pair_id, count(*) FROM scored_pairs GROUP BY 1")).all()
    assert len(rows) == PAIRS and {n for _, n in rows} == {1}


def test_a_redis_restart_with_a_queued_step_loses_nothing(deployments):
    restarted = deployments["restarted"]
    assert restarted["queued_after"] == restarted["queued_before"] >= 1  # the AOF kept it
    assert deployments["celery"]["selection_job/None"]["success"]


def test_no_process_left_a_local_file_for_another_step(deployments):
    """Steps share S3 and PostgreSQL only: nothing was written to any process's cwd, HOME or
    temp dir (a step that read such a file on another worker would have failed)."""
    killed = deployments["work"] / deployments["killed"]["name"]
    for dirs in deployments["dirs"]:
        # a killed process cannot clean its temp dir (the S3 copy its step was reading)
        folders = ("cwd", "home") if dirs.root == killed else ("cwd", "home", "tmp")
        assert dirs.leftovers(folders) == [], dirs.root
