"""What an ingest materialization shows, and the source signature the landing sensor reads back.

A source's signature maps each path of its folder to what identifies its state: a data file
``size:version``, a skipped path ``skipped:<reason>``, the ``scar_source.toml`` the sha256 of
its bytes. ``raw_pairs`` metadata records the signature it read, so the sensor requests a run
exactly when the folder differs from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetCheckResult, DataVersion, MetadataValue

from scar_dagster.dagster.metadata import counts_table, frame_metadata
from scar_dagster.dagster.versions import file_data_version
from scar_dagster.ingest.accounting import SourceRead
from scar_dagster.ingest.landing import SourceListing
from scar_dagster.ingest.pipeline import WrittenSource
from scar_dagster.ingest.source_config import CONFIG_FILE

PAIRS_PREVIEW = ["id", "instruction", "response", "origin_file"]
DROPPED_PREVIEW = ["origin_file", "origin_line", "reason", "detail"]
IGNORED_SHOWN = 50  # ignored paths listed by name; the rest are counted
ACCOUNTING_CHECK = "raw_pairs_row_accounting"


def source_signature(listing: SourceListing, config_sha256: str | None) -> dict[str, str]:
    """``path -> state`` of a source folder (see the module docstring)."""
    signature = {info.key: f"{info.size}:{info.version}" for info in listing.files}
    signature.update({item.key: f"skipped:{item.reason}" for item in listing.skipped})
    if config_sha256:
        signature[CONFIG_FILE] = f"sha256:{config_sha256}"
    return signature


def ingested_signature(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """The ``source_signature`` a ``raw_pairs`` materialization read; empty without one."""
    if not metadata:
        return {}
    sizes = metadata.get("file_sizes") or {}
    signature = {
        key: f"{sizes.get(key)}:{version}" for key, version in (metadata.get("files") or {}).items()
    }
    skipped = metadata.get("skipped_paths") or {}
    signature.update({key: f"skipped:{reason}" for key, reason in skipped.items()})
    sha256 = (metadata.get("source_config") or {}).get("file_sha256")
    if sha256:
        signature[CONFIG_FILE] = f"sha256:{sha256}"
    return signature


def source_data_version(path: Path, read: SourceRead) -> DataVersion:
    """The output file's bytes and the settings in force (a config change is a new version)."""
    return file_data_version(path, json.dumps(read.config.settings(), sort_keys=True))


def _ignored(ignored: Mapping[str, str]) -> dict[str, Any]:
    shown = dict(list(sorted(ignored.items()))[:IGNORED_SHOWN])
    more = len(ignored) - len(shown)
    return {**shown, **({"...": f"{more:,} more"} if more else {})}


def raw_pairs_metadata(result: WrittenSource) -> dict[str, Any]:
    """Counts, the files and config read, layouts per file, conversation turns, a preview."""
    read = result.read
    return {
        **frame_metadata(result.pairs_head, PAIRS_PREVIEW),
        "dagster/row_count": result.kept,
        "input_records": result.input_records,
        "input_rows": result.input_rows,
        "duplicates": result.duplicates,
        "quarantined": result.quarantined,
        "files": MetadataValue.json({info.key: info.version for info in result.files}),
        "file_sizes": MetadataValue.json({info.key: info.size for info in result.files}),
        "skipped_paths": MetadataValue.json({s.key: s.reason for s in read.listing.skipped}),
        "ignored_files": MetadataValue.json(_ignored(read.listing.ignored)),
        "source_config": MetadataValue.json(read.config_summary()),
        "layouts": MetadataValue.json(read.stats.file_layouts()),
        "turns": MetadataValue.json(read.stats.turn_counts()),
    }


def raw_quarantine_metadata(result: WrittenSource) -> dict[str, Any]:
    """Row count, rows by reason and a preview of the rows not kept."""
    return {
        **frame_metadata(result.dropped_head, DROPPED_PREVIEW),
        "dagster/row_count": result.duplicates + result.quarantined,
        "by_reason": counts_table(result.reasons),
    }


def accounting_check(result: WrittenSource) -> AssetCheckResult:
    """``input_rows == kept + duplicates + quarantined``, with the four numbers."""
    accounted = result.kept + result.duplicates + result.quarantined
    return AssetCheckResult(
        check_name=ACCOUNTING_CHECK,
        asset_key="raw_pairs",
        passed=accounted == result.input_rows,
        metadata={
            "input_records": result.input_records,
            "input_rows": result.input_rows,
            "kept": result.kept,
            "duplicates": result.duplicates,
            "quarantined": result.quarantined,
        },
    )


def ingest_summary(source: str, result: WrittenSource) -> str:
    """One log line: records read, rows, and where they went."""
    return (
        f"{source}: {result.input_records} records ({result.input_rows} rows) -> {result.kept} "
        f"kept, {result.duplicates} duplicates, {result.quarantined} quarantined"
    )
