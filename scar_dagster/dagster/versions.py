"""Data versions from content, so that an identical re-materialization changes nothing downstream.

Dagster's automation conditions in ``scar_dagster.dagster.automation`` react to a dependency's
*data version*, not to the mere fact that it was materialized; an asset that records a version
computed from what it wrote lets an identical re-ingest (or re-score) stop there.
"""

import hashlib
import json
import warnings
from pathlib import Path

from dagster import BetaWarning, DataVersion

from scar_dagster.storage.frame_digest import frames_digest
from scar_dagster.storage.parquet_parts import ParquetPart
from scar_dagster.storage.stores import hash_file

# ``Output(data_version=...)`` is the only public way to version one output of a multi-output
# asset in dagster 1.13; it is marked beta. We use it on purpose, so its warning is noise here.
warnings.filterwarnings(
    "ignore",
    message=r"Parameter `data_version` of initializer `Output.__init__`",
    category=BetaWarning,
)


def part_data_version(part: ParquetPart, *context: str) -> DataVersion:
    """The content digest (``scar_dagster.storage.frame_digest.frames_digest``) of a stored
    Parquet partition and ``context`` strings (e.g. the ranker version that scored its rows),
    read one batch at a time: the version of the frame it holds."""
    return DataVersion(frames_digest(part.empty().dtypes, part.iter_batches(), *context))


def file_data_version(path: Path, *context: str) -> DataVersion:
    """sha256 of a file's bytes (read in 1 MiB blocks) and ``context`` strings; 24 hex characters.

    For streamed outputs written once by a deterministic writer (the ingest's Parquet files are
    byte-identical for the same input), the bytes are the content.
    """
    digest = hash_file(hashlib.sha256(json.dumps(list(context)).encode()), path)
    return DataVersion(digest.hexdigest()[:24])
