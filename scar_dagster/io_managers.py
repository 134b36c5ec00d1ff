"""Parquet IO manager: pandas DataFrames on a ``BlobStore``, laid out with ``UPath``.

Same class for local folders and S3 (the store moves the bytes); writes are atomic, and
partition keys are validated so that no write can escape the storage root.
"""


import io
from typing import Any

import pandas as pd
from dagster import (
    ConfigurableIOManagerFactory,
    InputContext,
    MetadataValue,
    OutputContext,
    ResourceDependency,
)
from dagster._core.storage.upath_io_manager import UPathIOManager
from upath import UPath

from scar_dagster.ingest.landing import validate_source_name
from scar_dagster.io.storage import BlobStore
from scar_dagster.resources import StorageResource


class ParquetStoreIOManager(UPathIOManager):
    """Loads and dumps DataFrames as ``<asset>/<partition>.parquet`` in a store."""

    extension = ".parquet"

    def __init__(self, store: BlobStore) -> None:
        super().__init__(base_path=UPath("assets"))
        self.store = store

    def make_safe_partition_path(self, base_path: UPath, partition: str) -> UPath:
        return base_path / validate_source_name(partition)

    def dump_to_path(self, context: OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"ParquetIOManager stores DataFrames, got {type(obj).__name__}")
        buffer = io.BytesIO()
        obj.to_parquet(buffer, index=False)
        self.store.write_bytes(path.as_posix(), buffer.getvalue())

    def load_from_path(self, context: InputContext, path: UPath) -> pd.DataFrame:
        key = path.as_posix()
        if not self.store.exists(key):
            raise FileNotFoundError(self.store.uri(key))
        return pd.read_parquet(io.BytesIO(self.store.read_bytes(key)))

    def path_exists(self, path: UPath) -> bool:
        return self.store.exists(path.as_posix())

    def unlink(self, path: UPath) -> None:
        self.store.delete(path.as_posix())

    def make_directory(self, path: UPath) -> None:
        return None  # the store creates what it needs

    def _handle_transition_to_partitioned_asset(self, context: OutputContext, path: UPath) -> None:
        return None  # keys never collide: partitioned assets always live in a folder

    def get_metadata(self, context: OutputContext, obj: Any) -> dict[str, Any]:
        path = self._get_path(context)
        return {"uri": MetadataValue.path(self.store.uri(path.as_posix()))}


class ParquetIOManager(ConfigurableIOManagerFactory):
    """Stores asset DataFrames as Parquet under the storage root (local folder or s3://)."""

    storage: ResourceDependency[StorageResource]

    def create_io_manager(self, context: Any) -> ParquetStoreIOManager:
        return ParquetStoreIOManager(self.storage.asset_store())
