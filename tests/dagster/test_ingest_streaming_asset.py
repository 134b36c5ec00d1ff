"""The real ingest asset on damaged and compressed files, locally and on (moto) S3."""

import gzip
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from dagster import DagsterInstance, materialize
from dagster_aws.s3 import S3Resource

from assets import ingest
from definitions import build_resources
from scar_dagster import schema as r
from scar_dagster.dagster.io_managers import ParquetIOManager
from scar_dagster.dagster.resources import StorageResource

ROWS = [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(8)]


def _damaged_files() -> dict[str, bytes]:
    """File name -> bytes: 8 + 8 + 4 + 1 readable records, and two damaged tails."""
    array = json.dumps(ROWS).encode()
    parquet = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(ROWS), parquet)
    return {
        "a.json.gz": gzip.compress(array[: array.index(b'"Question 5')]),  # 5 kept, 1 tail
        "b.jsonl.zst": zstandard.ZstdCompressor().compress(
            b"".join(json.dumps(row).encode() + b"\n" for row in ROWS)  # 3 new, 5 duplicates
        ),
        "c.parquet": parquet.getvalue(),  # 8 duplicates
        "d.csv": b"prompt,response\nNew?,Yes.\nbad,row,here\n",  # 1 kept, 1 malformed row
    }


def _ingest(resources: dict, kept_expected: int) -> dict:
    """Materialize the ingest asset for source ``dump``; check it; return metadata by asset."""
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", ["dump"])
        result = materialize(
            [ingest.ingest_source_assets],
            partition_key="dump",
            instance=instance,
            resources=resources,
        )
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("raw_pairs_row_accounting", True)]
    meta = {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("ingest_source")
    }
    assert meta["raw_pairs"]["dagster/row_count"] == kept_expected
    return meta


def test_damaged_and_compressed_files_through_the_asset(tmp_path):
    landing, home = tmp_path / "landing", tmp_path / "home"
    (landing / "dump").mkdir(parents=True)
    for name, data in _damaged_files().items():
        (landing / "dump" / name).write_bytes(data)
    meta = _ingest(build_resources(str(home), str(landing)), kept_expected=9)
    assert meta["raw_pairs"]["input_records"] == 6 + 8 + 8 + 2
    assert (meta["raw_pairs"]["duplicates"], meta["raw_pairs"]["quarantined"]) == (13, 2)
    pairs = pd.read_parquet(home / "assets" / "raw_pairs" / "dump.parquet")
    pairs = pairs.sort_values(["origin_file", "origin_line"])  # stored in bucket order
    assert list(pairs["instruction"]) == [row["prompt"] for row in ROWS] + ["New?"]
    dropped = pd.read_parquet(home / "assets" / "raw_quarantine" / "dump.parquet")
    tail = dropped[dropped["reason"] == r.INGEST_TRUNCATED_FILE].iloc[0]
    assert (tail["origin_file"], int(tail["origin_line"])) == ("a.json.gz", 6)
    assert "records from 6 on are not read" in tail["detail"]
    assert "ingest_truncated_file" in meta["raw_quarantine"]["by_reason"]
    assert "Question 0?" in meta["raw_pairs"]["preview"]


def test_streaming_ingest_from_and_to_s3(s3: S3Resource, tmp_path: Path):
    client = s3.get_client()
    for bucket in ("landing", "curated"):
        client.create_bucket(Bucket=bucket)
    for name, data in _damaged_files().items():
        client.put_object(Bucket="landing", Key=f"zone/dump/{name}", Body=data)
    storage = StorageResource(root="s3://curated/root", landing_zone="s3://landing/zone", s3=s3)
    resources = {"storage": storage, "io_manager": ParquetIOManager(storage=storage)}
    _ingest(resources, kept_expected=9)
    body = client.get_object(Bucket="curated", Key="root/assets/raw_pairs/dump.parquet")["Body"]
    pairs = pd.read_parquet(io.BytesIO(body.read()))
    assert len(pairs) == 9 and pairs["id"].is_unique
