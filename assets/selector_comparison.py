"""Selector comparison: every configured selector's subset of the pool side by side (on demand)."""

import pandas as pd
from dagster import AssetExecutionContext, Output, asset

from scar_dagster.dagster.comparison_metadata import comparison_metadata
from scar_dagster.dagster.partitions import concat_partitions, pool_inputs
from scar_dagster.dagster.ranker_stage import champion_version
from scar_dagster.dagster.resources import (
    DatabaseResource,
    EncoderResource,
    InstructLMResource,
    StorageResource,
)
from scar_dagster.dagster.run_config import SelectorComparisonConfig
from scar_dagster.dagster.selector_stage import run_comparison
from scar_dagster.storage.parquet_parts import ParquetPart

GROUP = "selector_comparison"


@asset(
    group_name=GROUP,
    kinds={"pandas", "pytorch"},
    ins=pool_inputs(),
    deps=["scored_pairs"],
    description="On demand: the subset of each selector (scar, ifd, superfiltering, perplexity, "
    "length, random, diversity, scar+diversity, distilled) made by the same selection path, "
    "side by side: rows, style spread vs random, source and origin mix, overlaps, cost, and "
    "held-out preference accuracy with pairs_path; a plot of spreads and overlaps.",
)
def selector_comparison(
    context: AssetExecutionContext,
    config: SelectorComparisonConfig,
    raw_pairs: dict[str, ParquetPart],
    raw_quarantine: dict[str, pd.DataFrame],
    style_features: dict[str, ParquetPart],
    style_ranker: dict,
    database: DatabaseResource,
    storage: StorageResource,
    instruct_lm: InstructLMResource,
    encoder: EncoderResource,
) -> Output[pd.DataFrame]:
    """Compare the selectors on the current pool; the table is the value."""
    inputs = (raw_pairs, concat_partitions(raw_quarantine), style_features)
    comparison = run_comparison(
        config,
        context,
        inputs,
        champion_version(style_ranker),
        database,
        storage,
        instruct_lm,
        encoder,
    )
    return Output(comparison.table, metadata=comparison_metadata(comparison))
