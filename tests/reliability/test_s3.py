"""Landing zone and storage root on a real (local, moto) S3 API through dagster-aws S3Resource.

Everything talks to the loopback moto server of the ``s3_endpoint`` fixture; its state is
reset before each test, so bucket names can be reused.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dagster import DagsterInstance, build_sensor_context
from dagster_aws.s3 import S3Resource

from definitions import defs
from tests.pipeline import (
    error_text,
    materialize_group,
    run_config,
    s3_resources,
    write_landing,
    write_quadruples,
)

landing_zone_sensor = defs.resolve_sensor_def("landing_zone_sensor")
LANDING = "s3://landing/zone"
ROOT = "s3://curated/root"


def _put(client: Any, bucket: str, key: str, rows: list[dict]) -> None:
    body = "".join(json.dumps(row) + "\n" for row in rows).encode()
    client.put_object(Bucket=bucket, Key=key, Body=body)


def _tick(instance: DagsterInstance, res: dict[str, Any], cursor: str | None = None):
    with build_sensor_context(instance=instance, cursor=cursor, resources=res) as context:
        result = landing_zone_sensor(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_landing_sensor_on_s3(s3: S3Resource, tmp_path: Path) -> None:
    client = s3.get_client()
    client.create_bucket(Bucket="landing")
    _put(client, "landing", "zone/forum/a.jsonl", [{"prompt": "q", "response": "aaaa"}])
    _put(client, "landing", "zone/guides/g.jsonl", [{"prompt": "q", "response": "a"}])
    _put(client, "landing", "zone/bad name/x.jsonl", [{"prompt": "q", "response": "a"}])
    res = s3_resources(s3, ROOT, LANDING, tmp_path)
    with DagsterInstance.ephemeral() as instance:
        first = _tick(instance, res)
        assert [list(r.partition_keys) for r in first.dynamic_partitions_requests] == [
            ["forum", "guides"]
        ]
        assert sorted(r.partition_key for r in first.run_requests) == ["forum", "guides"]
        assert instance.get_dynamic_partitions("data_source") == ["forum", "guides"]

        again = _tick(instance, res, first.cursor)
        assert again.run_requests == [] and again.dynamic_partitions_requests == []

        # Same size, different bytes: only the ETag tells the new version apart.
        _put(client, "landing", "zone/forum/a.jsonl", [{"prompt": "q", "response": "bbbb"}])
        third = _tick(instance, res, again.cursor)
        assert [r.partition_key for r in third.run_requests] == ["forum"]
        assert third.dynamic_partitions_requests == []
        assert third.run_requests[0].run_key not in {r.run_key for r in first.run_requests}

        assert _tick(instance, res, third.cursor).run_requests == []
        assert instance.get_dynamic_partitions("data_source") == ["forum", "guides"]


def test_full_pipeline_on_s3(s3: S3Resource, tmp_path: Path) -> None:
    client = s3.get_client()
    for bucket in ("landing", "curated"):
        client.create_bucket(Bucket=bucket)
    staging = tmp_path / "staging"
    write_landing(staging)
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        key = f"zone/{path.relative_to(staging).as_posix()}"
        client.put_object(Bucket="landing", Key=key, Body=path.read_bytes())
    config = run_config(write_quadruples(tmp_path / "quads.jsonl"), top_k=8)
    res = s3_resources(s3, ROOT, LANDING, tmp_path)
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", ["forum", "guides"])
        for source in ("forum", "guides"):
            assert materialize_group(instance, res, config, ["ingest", "features"], source).success
        assert materialize_group(instance, res, config, ["ranker"]).success
        for source in ("forum", "guides"):
            assert materialize_group(instance, res, config, ["scoring"], source).success
        selection = materialize_group(instance, res, config, ["selection"])
        assert selection.success
    meta = selection.asset_materializations_for_node("selected_subset")[0].metadata
    version = meta["subset_version"].value

    def exists(key: str) -> bool:
        return client.list_objects_v2(Bucket="curated", Prefix=key)["KeyCount"] > 0

    for key in (
        "root/assets/raw_pairs/forum.parquet",
        "root/assets/style_features/guides.parquet",
        "root/rankers/champion.json",
        f"root/subsets/{version}/alpaca.jsonl",
        f"root/subsets/{version}/_SUCCESS",
    ):
        assert exists(key), key
    body = client.get_object(Bucket="curated", Key="root/assets/raw_pairs/forum.parquet")["Body"]
    forum = pd.read_parquet(io.BytesIO(body.read()))
    assert len(forum) == 16 and set(forum["source"]) == {"forum"}
    alpaca = client.get_object(Bucket="curated", Key=f"root/subsets/{version}/alpaca.jsonl")
    assert len(alpaca["Body"].read().decode().splitlines()) == 8


@pytest.mark.parametrize(
    ("root", "landing", "missing"),
    [
        ("s3://no-such-bucket/root", LANDING, "s3://no-such-bucket/root"),
        (ROOT, "s3://no-such-landing/zone", "s3://no-such-landing/zone"),
    ],
    ids=["storage_root", "landing_zone"],
)
def test_missing_bucket_fails_naming_the_uri(
    s3: S3Resource, tmp_path: Path, root: str, landing: str, missing: str
) -> None:
    client = s3.get_client()
    for bucket in ("landing", "curated"):
        client.create_bucket(Bucket=bucket)
    _put(client, "landing", "zone/forum/a.jsonl", [{"prompt": "How do I x?", "response": "Do y."}])
    res = s3_resources(s3, root, landing, tmp_path)
    config = run_config(tmp_path / "unused.jsonl")
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", ["forum"])
        result = materialize_group(instance, res, config, ["ingest"], "forum", raise_on_error=False)
    assert not result.success
    failures = result.get_step_failure_events()
    assert failures
    text = error_text(failures[0].step_failure_data.error)
    assert missing in text, text
