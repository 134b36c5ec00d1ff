"""Fine-tune stage: fine_tuned_model, launched once per subset version that passed its gates."""

import json

from dagster import AssetExecutionContext, AssetIn, Output, asset

from scar_dagster.dagster.finetune_metadata import fine_tune_metadata
from scar_dagster.dagster.metadata import latest_metadata
from scar_dagster.dagster.partitions import LAZY
from scar_dagster.dagster.resources import FineTuneResource, InstructLMResource, StorageResource
from scar_dagster.storage.parquet_parts import ParquetPart

GROUP = "finetune"


@asset(
    group_name=GROUP,
    kinds={"pytorch", "transformers", "trl"},
    io_manager_key="json_io_manager",
    ins={"selected_subset": AssetIn(metadata={LAZY: True})},  # its row count only
    description="A model fine-tuned on the latest selected subset (TRL SFTTrainer on the instruct "
    "LM, full or LoRA, or the user's command), recording the subset version, base model, eval "
    "loss before/after, steps, tokens, time and output folder.",
)
def fine_tuned_model(
    context: AssetExecutionContext,
    selected_subset: ParquetPart,
    fine_tune: FineTuneResource,
    instruct_lm: InstructLMResource,
    storage: StorageResource,
) -> Output[dict]:
    """Fine-tune on the subset version that selected_subset last materialized."""
    from scar_dagster.finetune import raise_for_status
    from scar_dagster.selection.export import FILES

    metadata = latest_metadata(context.instance, "selected_subset")
    if metadata is None:
        raise ValueError("selected_subset has no materialization to fine-tune on")
    version = metadata["subset_version"]
    requested = context.run.tags.get("scar/subset_version")
    if requested and requested != version:
        raise ValueError(f"run asked for subset {requested}, latest subset is {version}")
    subset_path = f"{metadata['dagster/uri']}/{FILES['alpaca']}"
    record = fine_tune.launch(subset_path, version, instruct_lm.get_path())
    raise_for_status(record)
    storage.asset_store().write_bytes(f"finetune/{version}.json", record.to_json().encode())
    return Output(
        json.loads(record.to_json()),
        metadata=fine_tune_metadata(record, rows=selected_subset.num_rows),
    )
