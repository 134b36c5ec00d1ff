"""The store IO managers hand an unpartitioned step every source as a dict, even just one, and
a lazy input a ParquetPart (local store and S3)."""

import pandas as pd
import pytest
from dagster import AssetIn, DagsterInstance, asset, materialize

from scar_dagster.dagster.io_managers import ParquetIOManager
from scar_dagster.dagster.partitions import data_source_partitions, lazy_source_input
from scar_dagster.dagster.resources import StorageResource
from scar_dagster.storage.parquet_parts import ParquetPart


@asset(partitions_def=data_source_partitions)
def per_source(context) -> pd.DataFrame:
    return pd.DataFrame({"source": [context.partition_key], "n": [1]})


@asset(ins={"per_source": AssetIn(metadata={"allow_missing_partitions": True})})
def across_sources(per_source: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([per_source[k] for k in sorted(per_source)], ignore_index=True)


@pytest.mark.parametrize("sources", [["only"], ["a", "b"]])
def test_unpartitioned_step_gets_a_dict_of_every_source(tmp_path, sources):
    storage = StorageResource(root=str(tmp_path), landing_zone=str(tmp_path / "landing"))
    resources = {"io_manager": ParquetIOManager(storage=storage)}
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", sources)
        for source in sources:
            materialize([per_source], partition_key=source, instance=instance, resources=resources)
        result = materialize(
            [per_source, across_sources],
            selection=[across_sources],
            instance=instance,
            resources=resources,
        )
    assert result.success
    combined = pd.read_parquet(tmp_path / "assets" / "across_sources.parquet")
    assert combined["source"].tolist() == sources


def test_partition_metadata_names_the_partition_file(tmp_path):
    storage = StorageResource(root=str(tmp_path), landing_zone=str(tmp_path / "landing"))
    resources = {"io_manager": ParquetIOManager(storage=storage)}
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", ["forum"])
        result = materialize(
            [per_source], partition_key="forum", instance=instance, resources=resources
        )
    (event,) = result.asset_materializations_for_node("per_source")
    expected = tmp_path.resolve() / "assets" / "per_source" / "forum.parquet"
    assert event.metadata["uri"].value == str(expected) and expected.is_file()


@asset(partitions_def=data_source_partitions)
def source_rows(context) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"{context.partition_key}-{i}" for i in range(5)], "n": range(5)})


@asset(partitions_def=data_source_partitions, ins={"source_rows": lazy_source_input(1)})
def lazily_read(source_rows: ParquetPart) -> pd.DataFrame:
    assert isinstance(source_rows, ParquetPart)
    batches = [len(batch) for batch in source_rows.iter_batches(["n"], batch_rows=2)]
    picked = source_rows.take([source_rows.read(["id"])["id"].iloc[3]], ["n"])
    return pd.DataFrame(
        {"rows": [source_rows.num_rows], "batches": [batches], "picked": picked["n"].tolist()}
    )


def _lazy_run(resources: dict) -> pd.DataFrame:
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", ["forum"])
        for assets in ([source_rows], [source_rows, lazily_read]):
            result = materialize(
                assets,
                selection=[assets[-1]],
                partition_key="forum",
                instance=instance,
                resources=resources,
            )
            assert result.success
        return result.output_for_node("lazily_read")


def test_a_lazy_input_gets_a_parquet_part_from_a_local_store(tmp_path):
    storage = StorageResource(root=str(tmp_path), landing_zone=str(tmp_path / "landing"))
    out = _lazy_run({"io_manager": ParquetIOManager(storage=storage)})
    assert out.to_dict("records") == [{"rows": 5, "batches": [2, 2, 1], "picked": 3}]


def test_a_lazy_input_gets_a_parquet_part_from_s3(s3, tmp_path):
    s3.get_client().create_bucket(Bucket="curated")
    storage = StorageResource(root="s3://curated/root", landing_zone="s3://curated/zone", s3=s3)
    out = _lazy_run({"io_manager": ParquetIOManager(storage=storage)})
    assert out.to_dict("records") == [{"rows": 5, "batches": [2, 2, 1], "picked": 3}]
