"""A small end-to-end pipeline on planted data, and the helpers the pipeline tests share.

Test helpers live in tests/*.py modules like this one; test modules and conftest files import
them from here, never from each other.
"""

import json
from pathlib import Path
from typing import Any

from dagster import AssetSelection, DagsterInstance, materialize

import definitions
from definitions import build_resources
from scar_dagster.dagster.resources import CheckThresholdsResource
from tests.planted import TOPICS, forum, quadruple_rows, reposted_guide, varied_guide


def write_jsonl(path: Path, rows: list) -> Path:
    """Write rows (dicts, or raw strings for broken lines) as a JSONL file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


GUIDES = list(enumerate(TOPICS[:8]))


def write_landing(landing: Path) -> None:
    """Two sources with opposite styles, and one with planted bad rows.

    guides: 8 distinct markdown guides and 7 near-duplicate reposts of them, so 8 guides are
    eligible after near-dedup; forum: 15 terse answers plus bad rows (malformed, empty, an
    exact duplicate, a Russian pair)."""
    write_jsonl(
        landing / "guides" / "a.jsonl",
        [{"prompt": f"How do I {t}?", "response": varied_guide(t, i)} for i, t in GUIDES]
        + [  # reposts of the first 7: near duplicates (word-bigram Jaccard ~0.8) for dedup_near
            {"prompt": f"How can I {t}?", "response": reposted_guide(t, i)} for i, t in GUIDES[:7]
        ],
    )
    write_jsonl(
        landing / "forum" / "a.jsonl",
        [{"instruction": f"how to {t}", "output": forum(t, i)} for i, t in enumerate(TOPICS[:15])]
        + [
            "{broken",
            {"instruction": "x", "output": ""},
            {"instruction": "how to sort a list", "output": forum("sort a list", 0)},
            {"instruction": "Как дела?", "output": "Все хорошо, спасибо большое друг."},
        ],
    )


def write_quadruples(path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in quadruple_rows(15)))
    return path


def resources(home: Path, landing: Path, database_url: str | None = None) -> dict:
    res = build_resources(str(home), str(landing), database_url)
    res["check_thresholds"] = CheckThresholdsResource(min_validation_accuracy=0.0)
    return res


def run_config(quadruples: Path, **selection) -> dict:
    return {
        "ops": {
            "ranker_training_data": {"config": {"quadruples_path": str(quadruples)}},
            "style_ranker": {
                "config": {
                    "epochs": 2,
                    "max_length": 64,
                    "hidden_dim": 64,
                    "batch_size": 4,
                    "lr": 1e-4,
                }
            },
            "selected_subset": {"config": selection or {"ratio": 0.5}},
        }
    }


GROUP_OPS = {
    "ranker": ("ranker_training_data", "style_ranker"),
    "scoring": ("scored_pairs",),
    "selection": ("selected_subset",),
}


def materialize_group(
    instance, res, config, groups, partition=None, raise_on_error=True, defs=None
):
    """Materialize the asset groups (and their checks) for one partition or unpartitioned, from
    ``defs`` (default the code location's)."""
    defs = defs or definitions.defs
    selection = AssetSelection.groups(*groups)
    ops = {op for group in groups for op in GROUP_OPS.get(group, ())}
    return materialize(
        assets=list(defs.assets) + list(defs.asset_checks),
        selection=selection,
        partition_key=partition,
        instance=instance,
        resources=res,
        run_config={"ops": {k: v for k, v in config["ops"].items() if k in ops}},
        raise_on_error=raise_on_error,
    )


def run_pipeline(instance, home, landing, quadruples, sources=("forum", "guides"), **selection):
    """ingest+features per source -> ranker -> scoring per source -> selection."""
    res = resources(home, landing)
    config = run_config(quadruples, **selection)
    instance.add_dynamic_partitions("data_source", list(sources))
    results = {}
    for source in sources:
        results[f"features/{source}"] = materialize_group(
            instance, res, config, ["ingest", "features"], source
        )
    results["ranker"] = materialize_group(instance, res, config, ["ranker"])
    for source in sources:
        results[f"scoring/{source}"] = materialize_group(instance, res, config, ["scoring"], source)
    results["selection"] = materialize_group(
        instance, res, config, ["selection"], raise_on_error=False
    )
    if results["selection"].success:
        results["evaluation"] = materialize_group(instance, res, config, ["evaluation"])
    return results


def ingest_forum(home: Path, landing: Path) -> None:
    """Materialize the ingest group for the ``forum`` source on a fresh instance."""
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", ["forum"])
        res, config = resources(home, landing), run_config(home / "unused.jsonl")
        assert materialize_group(instance, res, config, ["ingest"], "forum").success


def s3_resources(s3: Any, root: str, landing: str, tmp_path: Path) -> dict[str, Any]:
    """The pipeline test resources, with storage, IO managers and S3 client on ``s3``."""
    from scar_dagster.dagster.io_managers import JsonIOManager, ParquetIOManager
    from scar_dagster.dagster.resources import FineTuneResource, StorageResource

    res = resources(tmp_path / "unused-home", tmp_path / "unused-landing")
    res["database"] = type(res["database"])(url=f"sqlite:///{tmp_path / 'scar.db'}")
    storage = StorageResource(root=root, landing_zone=landing, s3=s3)
    res.update(
        s3=s3,
        storage=storage,
        io_manager=ParquetIOManager(storage=storage),
        json_io_manager=JsonIOManager(storage=storage),
        fine_tune=FineTuneResource(output_root=str(tmp_path / "finetune")),
    )
    return res


def error_text(error: Any) -> str:
    """Message of a SerializableErrorInfo and of every cause and context below it."""
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause or error.context
    return "\n".join(parts)


def failure_text(result: Any) -> str:
    """The error text of every failed step of a materialize result."""
    failures = result.get_step_failure_events()
    return "\n".join(error_text(failure.step_failure_data.error) for failure in failures)


def ingest_run(instance, home: Path, landing: Path, source: str) -> None:
    """Materialize raw_pairs and raw_quarantine of ``source`` in a real run that no sensor
    launched (as ``make demo``, the UI or the CLI would)."""
    from assets import ingest
    from definitions import build_resources

    result = materialize(
        [ingest.ingest_source_assets],
        partition_key=source,
        instance=instance,
        resources=build_resources(str(home), str(landing)),
    )
    assert result.success
