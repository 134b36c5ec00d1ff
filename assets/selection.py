"""Selection stage: selected_subset across all sources, explained, exported and gated."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, DataVersion, Output, asset

from scar_dagster.dagster.automation import when_inputs_settle
from scar_dagster.dagster.checks import build_gx_asset_check
from scar_dagster.dagster.io_managers import ParquetFileOutput
from scar_dagster.dagster.metadata import latest_metadata
from scar_dagster.dagster.partitions import concat_partitions, pool_inputs
from scar_dagster.dagster.resources import (
    DatabaseResource,
    EncoderResource,
    InstructLMResource,
    StorageResource,
)
from scar_dagster.dagster.retries import IO_RETRY_POLICY
from scar_dagster.dagster.run_config import SelectionConfig
from scar_dagster.dagster.selector_stage import choose_scores
from scar_dagster.dagster.subset_metadata import subset_metadata, subset_summary
from scar_dagster.schema import STYLE_METRICS
from scar_dagster.storage.parquet_parts import ParquetPart

GROUP = "selection"
SUBSETS_PREFIX = "subsets"


@asset(
    group_name=GROUP,
    kinds={"pandas", "parquet", "sql"},
    ins=pool_inputs(),
    deps=["scored_pairs"],
    retry_policy=IO_RETRY_POLICY,
    automation_condition=when_inputs_settle(triggers=["scored_pairs"], required=["style_ranker"]),
    description="The style-consistent subset: a global top-k / ratio / threshold over every "
    "source's scores (the StyleRanker's, or another selector's: `selector`, default auto), with "
    "a reason for every row in selection_decisions, exported as Alpaca and ShareGPT JSONL and "
    "Parquet under a versioned path.",
)
def selected_subset(
    context: AssetExecutionContext,
    config: SelectionConfig,
    raw_pairs: dict[str, ParquetPart],
    raw_quarantine: dict[str, pd.DataFrame],
    style_features: dict[str, ParquetPart],
    style_ranker: dict,
    database: DatabaseResource,
    storage: StorageResource,
    instruct_lm: InstructLMResource,
    encoder: EncoderResource,
) -> Iterator[Output[ParquetFileOutput]]:
    """Score with the selector, then select, explain, export and report one subset version
    (written chunk by chunk to a local file, which the IO manager copies before the folder
    goes); its report's and gate's perplexity comes through the ``surprisal_scores`` cache."""
    from scar_dagster.selection import curate

    ranker_version = style_ranker["champion_version"]
    engine = database.get_engine()
    chosen = choose_scores(
        config, context, raw_pairs, style_features, ranker_version, database, instruct_lm, encoder
    )
    with tempfile.TemporaryDirectory(prefix="scar-subset-") as folder:
        result = curate(
            pairs=raw_pairs,
            quarantine=concat_partitions(raw_quarantine),
            features=style_features,
            scored_by=chosen.scored_by,
            params=config.to_params(),
            engine=engine,
            store=storage.asset_store(),
            prefix=SUBSETS_PREFIX,
            folder=Path(folder),
            log=context.log,
            run=config.to_run(),
            perplexity=config.perplexity_reads(instruct_lm, engine),
        )
        context.log.info(subset_summary(result, chosen))
        yield Output(
            ParquetFileOutput(result.subset_file),
            data_version=DataVersion(result.version),  # a hash of the selected ids, ranker, config
            metadata=subset_metadata(result, ranker_version, chosen),
        )


def _latest_metadata(context, key: str) -> dict:
    metadata = latest_metadata(context.instance, key)
    if metadata is None:
        raise ValueError(f"{key} has no materialization to check")
    return metadata


def _style_specs(df: pd.DataFrame, context) -> list:
    from scar_dagster.dagster.subset_metadata import style_gate_specs

    metadata = _latest_metadata(context, "selected_subset")
    return style_gate_specs(df, metadata, context.resources.check_thresholds)


def _integrity_specs(df: pd.DataFrame, context) -> list:
    from scar_dagster.quality.expectations import (
        row_count_between,
        values_not_null,
        values_unique,
    )

    max_rows = int(_latest_metadata(context, "selected_subset")["max_rows"])
    return [
        values_unique("id"),
        values_not_null("instruction"),
        values_not_null("response"),
        values_unique("response", description="no exact duplicate responses"),
        row_count_between(1, max(1, max_rows), description="not empty, within selection size"),
    ]


selected_subset_style_consistency = build_gx_asset_check(
    asset=selected_subset,
    name="style_consistency",
    specs_fn=_style_specs,
    required_resource_keys={"check_thresholds"},
    columns=STYLE_METRICS,  # the subset's texts are not read
    description="Std of TTR, MTLD, perplexity and response length in the subset is at most "
    "max_std_ratio (default 0.8) x the scored pool's std, and under optional absolute bounds; "
    "each std says how many rows it is computed on (perplexity: read on seeded samples of the "
    "subset and the pool by default) and the sampling error of the ratio.",
)

selected_subset_integrity = build_gx_asset_check(
    asset=selected_subset,
    name="integrity",
    specs_fn=_integrity_specs,
    columns=("id", "instruction", "response"),
    coded_columns=("id", "instruction", "response"),  # GX hashes codes, not the texts
    description="Unique ids, no null instruction or response, no duplicate responses, and a "
    "row count between 1 and the configured selection size.",
)

GATE_CHECKS = ("selected_subset_style_consistency", "selected_subset_integrity")
