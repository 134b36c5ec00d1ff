"""IO managers on a ``BlobStore``: Parquet for DataFrames, JSON for small records.

Keys are laid out with ``UPath`` (``assets/<asset>/<partition>.parquet``, or
``assets/<asset>/<source>/<shard>.parquet`` for source x shard partitions) and the store moves
the bytes, so the same classes serve local folders and S3. Writes are atomic, and partition
keys are validated so that no write can escape the storage root.
"""

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from dagster import (
    AssetKey,
    ConfigurableIOManagerFactory,
    InputContext,
    MetadataValue,
    OutputContext,
    ResourceDependency,
    UPathIOManager,
)
from upath import UPath

from scar_dagster.dagster.partitions import LAZY
from scar_dagster.dagster.resources import StorageResource
from scar_dagster.ingest.landing import validate_source_name
from scar_dagster.storage.parquet_parts import ParquetPart
from scar_dagster.storage.stores import BlobStore


class _StoreIOManager(UPathIOManager):
    """Shared layout and store plumbing; subclasses only convert objects to and from bytes."""

    def __init__(self, store: BlobStore) -> None:
        self.root = UPath("assets")
        super().__init__(base_path=self.root)
        self.store = store

    def to_bytes(self, obj: Any) -> bytes:
        raise NotImplementedError

    def from_bytes(self, data: bytes) -> Any:
        raise NotImplementedError

    def make_safe_partition_path(self, base_path: UPath, partition: str) -> UPath:
        # a source x shard key arrives as "<source>/<shard>" (and as "<source>|<shard>" for
        # UPathIOManager's back-compat lookup): one folder per source, every part validated
        parts = partition.replace("|", "/").split("/")
        return base_path.joinpath(*(validate_source_name(part) for part in parts))

    def dump_to_path(self, context: OutputContext, obj: Any, path: UPath) -> None:
        key = path.as_posix()
        self.store.write_bytes(key, self.to_bytes(obj))
        context.add_output_metadata({"uri": MetadataValue.path(self.store.uri(key))})

    def load_from_path(self, context: InputContext, path: UPath) -> Any:
        return self.from_bytes(self.store.read_bytes(self.existing_key(path.as_posix())))

    def existing_key(self, key: str) -> str:
        """``key`` if the store has it, else ``FileNotFoundError`` naming its URI."""
        if not self.store.exists(key):
            raise FileNotFoundError(self.store.uri(key))
        return key

    def load_partitions(self, context: InputContext) -> Any:
        loaded = super().load_partitions(context)
        if len(context.asset_partition_keys) == 1 and not context.has_partition_key:
            # An unpartitioned step (e.g. the selection over every source) always gets a dict,
            # also when only one source exists; UPathIOManager would unwrap it.
            return {context.asset_partition_keys[0]: loaded}
        return loaded

    def path_exists(self, path: UPath) -> bool:
        return self.store.exists(path.as_posix())

    def unlink(self, path: UPath) -> None:
        self.store.delete(path.as_posix())

    def make_directory(self, path: UPath) -> None:
        return None  # the store creates what it needs

    # Before writing a partition, UPathIOManager looks for a stale unpartitioned file with UPath's
    # own filesystem (here the relative ``assets/<asset>`` under the current directory, as in
    # dagster-aws's S3 IO manager) rather than through path_exists/unlink; no public hook routes
    # that check to the store. It acts only on a file named exactly ``assets/<asset>`` there.


@dataclass(frozen=True)
class ParquetFileOutput:
    """An asset output already written as a local Parquet file (e.g. row group by row group).

    ``ParquetIOManager`` copies the file into the store as is, streamed; downstream assets
    load it as a DataFrame like any other output.
    """

    path: Path


class ParquetStoreIOManager(_StoreIOManager):
    """DataFrames as ``<asset>/<partition>.parquet`` (or a ``ParquetFileOutput``, copied as is).

    An input whose ``AssetIn`` metadata has ``"lazy": True`` gets a ``ParquetPart`` per partition
    (read by row group, columns or ids) instead of a DataFrame.
    """

    extension = ".parquet"

    def load_from_path(self, context: InputContext, path: UPath) -> Any:
        if not (context.definition_metadata or {}).get(LAZY):
            return super().load_from_path(context, path)
        return ParquetPart(self.store, self.existing_key(path.as_posix()))

    def read_columns(
        self, asset_key: AssetKey, partition_key: str | None, columns: Sequence[str]
    ) -> pd.DataFrame:
        """``columns`` of a stored asset (partition), read without the rest of the file: what an
        asset check that needs a few columns of a large partition loads."""
        return self.part(asset_key, partition_key).read(columns)

    def read_batches(
        self, asset_key: AssetKey, partition_key: str | None, columns: Sequence[str]
    ) -> Iterator[pd.DataFrame]:
        """``columns`` of a stored asset (partition), a row group's worth at a time."""
        return self.part(asset_key, partition_key).iter_batches(columns)

    def part(self, asset_key: AssetKey, partition_key: str | None) -> ParquetPart:
        """The stored file of an asset (partition), opened lazily."""
        path = self.root.joinpath(*asset_key.path)
        if partition_key is not None:
            path = self.make_safe_partition_path(path, str(partition_key))
        return ParquetPart(self.store, self.existing_key(path.as_posix() + self.extension))

    def dump_to_path(self, context: OutputContext, obj: Any, path: UPath) -> None:
        if isinstance(obj, ParquetFileOutput):
            self.store.write_file(path.as_posix(), obj.path)
        else:
            super().dump_to_path(context, obj, path)

    def to_bytes(self, obj: Any) -> bytes:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"ParquetIOManager stores DataFrames, got {type(obj).__name__}")
        buffer = io.BytesIO()
        obj.to_parquet(buffer, index=False)
        return buffer.getvalue()

    def from_bytes(self, data: bytes) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(data))


class JsonStoreIOManager(_StoreIOManager):
    """JSON-serializable records (dicts) as ``<asset>.json``."""

    extension = ".json"

    def to_bytes(self, obj: Any) -> bytes:
        return (json.dumps(obj, sort_keys=True, indent=2) + "\n").encode()

    def from_bytes(self, data: bytes) -> Any:
        return json.loads(data)


class ParquetIOManager(ConfigurableIOManagerFactory):
    """Stores asset DataFrames as Parquet under the storage root (local folder or s3://)."""

    storage: ResourceDependency[StorageResource]

    def create_io_manager(self, context: Any) -> ParquetStoreIOManager:
        return ParquetStoreIOManager(self.storage.asset_store())


class JsonIOManager(ConfigurableIOManagerFactory):
    """Stores small records (ranker and fine-tune descriptors) as JSON under the storage root."""

    storage: ResourceDependency[StorageResource]

    def create_io_manager(self, context: Any) -> JsonStoreIOManager:
        return JsonStoreIOManager(self.storage.asset_store())
