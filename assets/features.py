"""Features stage: style_features per data source (or source x shard), with range and drift
checks. Built for a shard count by ``style_features_asset`` and ``style_features_checks``
(``definitions.build_definitions``)."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from dagster import (
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetsDefinition,
    DataVersion,
    Output,
    asset,
)

from scar_dagster.dagster.automation import eager_on_new_data
from scar_dagster.dagster.checks import build_drift_asset_check, build_gx_asset_check
from scar_dagster.dagster.features_metadata import store_histograms, style_features_metadata
from scar_dagster.dagster.io_managers import ParquetFileOutput
from scar_dagster.dagster.partitions import (
    batches_of_partition,
    expected_rows_of_partition,
    lazy_source_input,
    source_partitions,
)
from scar_dagster.dagster.resources import (
    DatabaseResource,
    EncoderResource,
    InstructLMResource,
    StorageResource,
)
from scar_dagster.dagster.run_config import StyleFeaturesConfig
from scar_dagster.quality.expectations import values_between, values_not_null
from scar_dagster.storage.parquet_parts import ParquetPart

GROUP = "features"


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
        "the pairs of one shard of the source. Perplexity and relatedness: of a seeded drift "
        "sample by default (perplexity/relatedness: read), cached in surprisal_scores.",
    )(featurize_partition)


def featurize_partition(
    context: AssetExecutionContext,
    config: StyleFeaturesConfig,
    raw_pairs: ParquetPart,
    storage: StorageResource,
    instruct_lm: InstructLMResource,
    encoder: EncoderResource,
    database: DatabaseResource,
) -> Iterator[Output[ParquetFileOutput]]:
    """Compute the style features of one source's (shard's) pairs, streamed batch by batch
    (``scar_dagster.style.feature_writer``): each batch is written as a row group when
    computed, and memory holds one batch of texts and the numeric columns that the metadata
    summarizes. Perplexities go through the ``surprisal_scores`` cache (computed once)."""
    from scar_dagster.style.feature_writer import write_style_features
    from scar_dagster.style.features import INPUT_COLUMNS, drift_sample

    params = config.to_params()
    lm = config.perplexity_lm(instruct_lm)
    sentence_encoder = encoder.load() if params.relatedness != "off" else None
    sample = drift_sample(batches_of_partition(context, raw_pairs, ["id"]), params)
    with tempfile.TemporaryDirectory(prefix="scar-features-") as folder:
        path = Path(folder) / "style_features.parquet"
        written = write_style_features(
            batches_of_partition(context, raw_pairs, INPUT_COLUMNS),
            raw_pairs.empty(INPUT_COLUMNS),
            path,
            lm=lm,
            encoder=sentence_encoder,
            params=params,
            store=database.get_engine(),
            sample_ids=sample,
            total=expected_rows_of_partition(context, raw_pairs, "style features"),
            log=context.log,
        )
        histograms = store_histograms(storage.asset_store(), context.partition_key, written.stats)
        yield Output(
            ParquetFileOutput(path),
            data_version=DataVersion(written.digest),
            metadata=style_features_metadata(
                written, params, histograms=histograms, lm=lm, encoder=sentence_encoder
            ),
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
        "(default 0.5) stds since the previous materialization of this partition (warning); "
        "perplexity on the drift sample with perplexity: read.",
    )
    return [value_ranges, drift]
