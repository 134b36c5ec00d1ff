"""The planted pipeline of ``tests/pipeline.py`` for a shard count, with the tiny test LM.

Ingest runs per source, features and scores per partition of ``source_partitions(shards)``
(source, or source x shard), in one run each after the ranker, so that one and four shards
go through the same code path.
"""

from pathlib import Path

from dagster import DagsterInstance, Definitions

from definitions import build_definitions
from scar_dagster.dagster.partitions import sorted_partition_keys, source_partitions
from scar_dagster.dagster.resources import InstructLMResource
from tests.pipeline import materialize_group, resources, run_config

SOURCES = ("forum", "guides")


def shard_resources(home: Path, landing: Path) -> dict:
    """The pipeline test resources with the offline SmolLM2 in float32 for perplexity: a real LM,
    so the style gate measures style (a random tiny LM's perplexities are noise), and float32, so
    a pair's perplexity does not depend on which pairs share its batch (a shard batches others)."""
    res = resources(home, landing)
    res["instruct_lm"] = InstructLMResource(cache_dir=res["instruct_lm"].cache_dir, dtype="float32")
    return res


def shard_run_config(quadruples: Path, **selection) -> dict:
    """``tests.pipeline.run_config`` with float32 scoring: float32 scores do not depend on which
    pairs share a batch, bfloat16 ones move by ~1e-3 with the batch's shape, and a shard batches
    other pairs than the whole source does."""
    config = run_config(quadruples, **selection)
    config["ops"]["scored_pairs"] = {"config": {"dtype": "float32"}}
    return config


def run_sharded_pipeline(
    instance: DagsterInstance, res: dict, quadruples: Path, shards: int, **selection
) -> tuple[Definitions, dict]:
    """ingest per source -> ranker -> features + scores per partition -> selection."""
    defs = build_definitions(shards, resources=res)
    config = shard_run_config(quadruples, **selection)
    instance.add_dynamic_partitions("data_source", list(SOURCES))
    results = {}
    for source in SOURCES:
        results[f"ingest/{source}"] = materialize_group(
            instance, res, config, ["ingest"], source, defs=defs
        )
    results["ranker"] = materialize_group(instance, res, config, ["ranker"], defs=defs)
    for key in sorted_partition_keys(source_partitions(shards), instance):
        results[f"scores/{key}"] = materialize_group(
            instance, res, config, ["features", "scoring"], key, defs=defs
        )
    results["selection"] = materialize_group(
        instance, res, config, ["selection"], raise_on_error=False, defs=defs
    )
    return defs, results
