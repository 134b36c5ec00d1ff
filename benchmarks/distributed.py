"""The planted pipeline (2 sources x 4 shards) on 1 Celery worker vs 2: wall time and steps
per worker.

Each case is a fresh deployment of ``tests/distributed`` (the distributed tests' harness):
Redis, ``--workers`` dagster-celery workers (one pool process each, their own folders), two
orchestrator processes launching the runs (ingest per source, the ranker, features and scores
per shard, the selection), S3 on a local moto server and PostgreSQL for the instance and the
scores. Timed: from the first run's launch to the selection's end (worker start-up not
included; model loading in the workers is).

    .venv/bin/python -m benchmarks.distributed
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.harness import machine_line


def deployment(work: Path, endpoint: str, postgres: str, workers: int) -> dict:
    """One case: ``workers`` workers; returns its wall time and steps per worker."""
    import boto3

    from tests.distributed.cluster import ProcessDirs, RedisServer, instance_yaml
    from tests.distributed.pipeline import (
        BUCKET,
        Cluster,
        deployment_databases,
        orchestrators,
        pipeline_config,
        run_pipeline,
        shared_env,
        upload_inputs,
    )

    client = boto3.client("s3", endpoint_url=endpoint)
    prefix = f"w{workers}"
    quadruples = upload_inputs(client, work, f"{prefix}/inputs")
    redis = RedisServer(work / "redis")
    redis.start()
    instance_db, scores_db = deployment_databases(postgres, f"bench_{prefix}")
    env = shared_env(
        executor="celery",
        home=f"s3://{BUCKET}/{prefix}/home",
        landing=f"s3://{BUCKET}/{prefix}/inputs/landing",
        database=scores_db,
        s3_endpoint=endpoint,
        redis=f"redis://127.0.0.1:{redis.port}",
    )
    yaml = instance_yaml(instance_db)
    cluster = Cluster(work, env, yaml, redis)
    try:
        for index in range(workers):
            cluster.add_worker(f"w{index + 1}")
        with orchestrators(ProcessDirs(work / "orchestrator"), env, yaml) as pool:
            start = time.perf_counter()
            results = run_pipeline(pool, pipeline_config(quadruples))
            seconds = time.perf_counter() - start
    finally:
        cluster.stop()
        redis.stop()
    hosts = {worker.hostname: name for name, worker in cluster.workers.items()}
    steps = Counter(hosts[h] for r in results.values() for _, h in r["workers"])
    failed = [key for key, r in results.items() if not r["success"]]
    return {"seconds": seconds, "steps": dict(sorted(steps.items())), "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    from moto.server import ThreadedMotoServer

    from tests.distributed.pipeline import BUCKET
    from tests.postgres_server import running_postgres

    print(machine_line())
    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", NO_PROXY="127.0.0.1,localhost")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        with running_postgres() as postgres, tempfile.TemporaryDirectory() as work:
            cases = {n: deployment(Path(work) / f"w{n}", endpoint, postgres, n) for n in (1, 2)}
    finally:
        server.stop()
    print("\n| workers | wall time s | vs 1 worker | steps per worker | failed runs |")
    print("| ---: | ---: | ---: | --- | --- |")
    for n, case in cases.items():
        ratio = cases[1]["seconds"] / case["seconds"]
        steps = ", ".join(f"{name}: {count}" for name, count in case["steps"].items())
        print(
            f"| {n} | {case['seconds']:.1f} | {ratio:.2f}x | {steps} | "
            f"{', '.join(case['failed']) or 'none'} |"
        )


if __name__ == "__main__":
    main()
