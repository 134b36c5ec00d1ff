"""Features stage: style_features per data source (or source x shard), with range and drift
checks."""

import itertools
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from dagster import (
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetsDefinition,
    DataVersion,
    MetadataValue,
    Output,
    asset,
)

import settings
from scar_dagster.dagster.automation import eager_on_new_data
from scar_dagster.dagster.checks import (
    build_drift_asset_check,
    build_gx_asset_check,
    style_stats_metadata,
)
from scar_dagster.dagster.io_managers import ParquetFileOutput
from scar_dagster.dagster.metadata import counts_table, frame_metadata
from scar_dagster.dagster.partitions import (
    batches_of_partition,
    estimated_rows_of_partition,
    lazy_source_input,
    partition_path,
    source_partitions,
)
from scar_dagster.dagster.resources import EncoderResource, InstructLMResource, StorageResource
from scar_dagster.dagster.run_config import StyleFeaturesConfig
from scar_dagster.dagster.versions import frames_data_version
from scar_dagster.plots import histograms_png, markdown_image
from scar_dagster.progress import Progress
from scar_dagster.quality.expectations import values_between, values_not_null
from scar_dagster.storage.frame_writer import FrameParquetWriter
from scar_dagster.storage.parquet_parts import ParquetPart

if TYPE_CHECKING:
    from scar_dagster.style.features import StyleFeatureParams

GROUP = "features"
STAT_COLUMNS = (
    "n_words",
    "n_sentences",
    "ttr",
    "mtld",
    "flesch_reading_ease",
    "perplexity",
    "relatedness",
)


def style_features_asset(shards: int) -> AssetsDefinition:
    """``style_features`` partitioned by source (one shard) or by source x shard."""
    return asset(
        name="style_features",
        partitions_def=source_partitions(shards),
        ins={"raw_pairs": lazy_source_input(shards)},
        group_name=GROUP,
        kinds={"pandas", "parquet", "pytorch"},
        automation_condition=eager_on_new_data(),
        description="Linguistic-form and instructional-surprisal features of every kept pair of "
        "a source (SCAR's two style elements), one row per raw pair; with SCAR_SHARDS > 1, of "
        "the pairs of one shard of the source.",
    )(featurize_partition)


def featurize_partition(
    context: AssetExecutionContext,
    config: StyleFeaturesConfig,
    raw_pairs: ParquetPart,
    storage: StorageResource,
    instruct_lm: InstructLMResource,
    encoder: EncoderResource,
) -> Iterator[Output[ParquetFileOutput]]:
    """Compute the style features of one source's (shard's) pairs, streamed batch by batch:
    each batch is written as a row group when computed, and memory holds one batch of texts
    and the numeric feature columns that the metadata summarizes."""
    from scar_dagster.style.consistency import style_consistency
    from scar_dagster.style.features import models_precision_metadata

    params = config.to_params()
    lm = instruct_lm.load() if params.compute_perplexity else None
    sentence_encoder = encoder.load() if params.compute_relatedness else None
    with tempfile.TemporaryDirectory(prefix="scar-features-") as folder:
        path = Path(folder) / "style_features.parquet"
        written = _write_features(context, raw_pairs, lm, sentence_encoder, params, path)
        stats = written.stats
        png = histograms_png(stats, ["perplexity", "ttr"])
        plot_key = f"plots/style_features/{partition_path(context.partition_key)}.png"
        storage.asset_store().write_bytes(plot_key, png)
        degenerate = pd.Series(written.degenerate, dtype="int64").sort_index()
        preview = ["id", "n_words", "ttr", "mtld", "perplexity", "relatedness"]
        yield Output(
            ParquetFileOutput(path),
            data_version=written.version,
            metadata={
                **frame_metadata(written.head, preview),
                "dagster/row_count": written.rows,
                **style_stats_metadata(stats),
                "feature_stats": MetadataValue.json(style_consistency(stats, STAT_COLUMNS)),
                "truncated_rows": written.truncated,
                "degenerate_rows": int(degenerate.sum()),
                "degenerate_by_reason": counts_table(degenerate.to_dict()),
                "histograms": MetadataValue.md(markdown_image(png, "perplexity and TTR")),
                "histograms_path": MetadataValue.path(storage.asset_store().uri(plot_key)),
                **models_precision_metadata(lm=lm, encoder=sentence_encoder),
            },
        )


@dataclass
class _FeaturesFile:
    """What ``_write_features`` wrote and the summaries its metadata needs."""

    rows: int
    version: DataVersion
    head: pd.DataFrame  # the first rows, for the preview and the column schema
    stats: pd.DataFrame  # STAT_COLUMNS of every row
    truncated: int
    degenerate: Counter[str]


def _write_features(
    context: AssetExecutionContext,
    part: ParquetPart,
    lm: tuple[Any, Any] | None,
    sentence_encoder: tuple[Any, Any] | None,
    params: "StyleFeatureParams",
    path: Path,
) -> _FeaturesFile:
    """``compute_style_features`` over the partition's batches into ``path``, one row group per
    batch, with one progress line; the data version is that of the whole frame."""
    from scar_dagster.style.features import INPUT_COLUMNS, compute_style_features

    total, estimated = estimated_rows_of_partition(context, part)
    if estimated:
        context.log.info(f"style features: about {total:,} rows (source rows / shards)")
    progress = Progress("style features", total, context.log)
    computed = (
        compute_style_features(
            batch, lm=lm, encoder=sentence_encoder, params=params, progress=progress
        )
        for batch in batches_of_partition(context, part, INPUT_COLUMNS)
    )
    first = next(computed, None)
    if first is None:  # an empty partition still gets a file with the columns
        empty = part.empty(INPUT_COLUMNS)
        first = compute_style_features(empty, lm=lm, encoder=sentence_encoder, params=params)
    stats: list[pd.DataFrame] = []
    truncated, degenerate = 0, Counter[str]()

    def written(writer: FrameParquetWriter) -> Iterator[pd.DataFrame]:
        nonlocal truncated
        for frame in writer.passing(itertools.chain([first], computed)):
            stats.append(frame[list(STAT_COLUMNS)].copy())
            truncated += int(frame["truncated"].fillna(False).astype(bool).sum())
            degenerate.update(frame["degenerate_reason"].dropna().value_counts().to_dict())
            yield frame

    with FrameParquetWriter(path) as writer:
        version = frames_data_version(first.dtypes, written(writer))
    progress.done()
    return _FeaturesFile(
        rows=writer.rows,
        version=version,
        head=first.head(5),
        stats=pd.concat(stats, ignore_index=True) if len(stats) > 1 else stats[0],
        truncated=truncated,
        degenerate=degenerate,
    )


RANGE_COLUMNS = (
    "degenerate_reason",
    "ttr",
    "perplexity",
    "relatedness",
    "n_words",
    "mtld",
    "flesch_reading_ease",
)


def _valid_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["degenerate_reason"].isna()]


def style_features_checks(shards: int) -> list[AssetChecksDefinition]:
    """The value-range (blocking) and drift checks, per partition of ``style_features``."""
    partitions_def = source_partitions(shards)
    value_ranges = build_gx_asset_check(
        asset="style_features",
        name="value_ranges",
        description="TTR in [0, 1], perplexity >= 1, relatedness in [-1, 1], and no null feature "
        "outside rows flagged degenerate.",
        specs_fn=lambda df, context: [
            values_between("ttr", 0.0, 1.0),
            values_between("perplexity", 1.0, None),
            values_between("relatedness", -1.0001, 1.0001),
            *(values_not_null(c) for c in ("n_words", "ttr", "mtld", "flesch_reading_ease")),
        ],
        to_frame=_valid_rows,
        columns=RANGE_COLUMNS,  # a large partition's ids and sources are not read
        partitions_def=partitions_def,
        blocking=True,
        severity=AssetCheckSeverity.ERROR,
    )
    drift = build_drift_asset_check(
        asset="style_features",
        name="style_drift",
        partitions_def=partitions_def,
        max_shift_in_std=lambda context: context.resources.check_thresholds.max_drift_in_std,
        read_columns_only=True,
        required_resource_keys={"check_thresholds"},
        description="Mean TTR, MTLD, perplexity and length moved by more than max_drift_in_std "
        "(default 0.5) stds since the previous materialization of this partition (warning).",
    )
    return [value_ranges, drift]


style_features = style_features_asset(settings.shards())
style_features_value_ranges, style_features_drift = style_features_checks(settings.shards())
