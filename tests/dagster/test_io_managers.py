"""The store IO managers hand an unpartitioned step every source as a dict, even just one."""

import pandas as pd
import pytest
from dagster import AssetIn, DagsterInstance, asset, materialize

from scar_dagster.dagster.io_managers import ParquetIOManager
from scar_dagster.dagster.partitions import data_source_partitions
from scar_dagster.dagster.resources import StorageResource


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
