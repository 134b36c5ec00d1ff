"""Run the whole curation pipeline on the landing zone (the bundled sample by default).

Uses the persistent Dagster instance in ``$DAGSTER_HOME`` so that ``make dev`` shows every
materialization, check and lineage edge of this run. A source whose files have not changed
since its last materialization is not recomputed, so a second ``make demo`` is fast.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# INFO shows the steps' own lines (progress: rows done/total, rate, ETA; counts), not Dagster's
# DEBUG event stream.
CONSOLE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
# The demo ranker trains for 2 epochs on texts cut to 256 tokens instead of the paper's 20 epochs
# on 512 (RankerTrainingConfig's defaults, used by ranker_job in the UI): on the bundled 120
# quadruples one epoch at 256 tokens took ~90 s on 2 shared cores, so 20 would take 30 minutes
# or more; 2 epochs already pass the 0.7 validation gate (data/ranker/README.md).
DEMO_RANKER = {"ops": {"style_ranker": {"config": {"epochs": 2, "max_length": 256}}}}


def _run(
    job_name: str, instance, defs, partition_key: str | None = None, config: dict | None = None
) -> None:
    started = time.perf_counter()
    job = defs.resolve_job_def(job_name)
    result = job.execute_in_process(
        instance=instance,
        partition_key=partition_key,
        run_config={**CONSOLE, **(config or {})},
        raise_on_error=False,
    )
    label = f"{job_name}[{partition_key}]" if partition_key else job_name
    if not result.success:
        raise SystemExit(f"{label} failed; inspect the run with `make dev`")
    print(f"  {label:<44} {time.perf_counter() - started:6.1f}s", flush=True)


def _latest_metadata(instance, asset: str, partition: str | None = None) -> dict | None:
    from scar_dagster.dagster.metadata import latest_metadata

    return latest_metadata(instance, asset, partition)


def _unchanged(instance, source: str, files: dict[str, str]) -> bool:
    """True when raw_pairs and style_features of ``source`` exist for exactly these files."""
    meta = _latest_metadata(instance, "raw_pairs", source)
    features = _latest_metadata(instance, "style_features", source)
    return bool(meta and features and json.loads(json.dumps(meta.get("files"))) == files)


def main() -> None:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".scar_home" / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from dagster import DagsterInstance

    import definitions
    from scar_dagster.dagster.partitions import DATA_SOURCE_PARTITIONS_NAME
    from scar_dagster.ingest.landing import scan_landing_zone

    defs = definitions.defs
    storage = defs.resources["storage"]
    instance = DagsterInstance.get()
    scan = scan_landing_zone(storage.landing_store())
    sources = sorted(scan.files)
    print(f"landing zone {storage.landing_zone}: {len(sources)} sources")
    for problem in sorted(scan.rejected.values()):
        print(f"  skipped folder: {problem}")
    known = set(instance.get_dynamic_partitions(DATA_SOURCE_PARTITIONS_NAME))
    instance.add_dynamic_partitions(
        DATA_SOURCE_PARTITIONS_NAME, [s for s in sources if s not in known]
    )

    print(f"materializing into {storage.root} (Dagster instance {home})")
    for source in sources:
        files = {info.key: info.version for info in scan.files[source]}
        if _unchanged(instance, source, files):
            print(f"  {f'source_features_job[{source}]':<44} unchanged, skipped")
            continue
        _run("source_features_job", instance, defs, source)
    if _latest_metadata(instance, "style_ranker") is None:
        _run("ranker_job", instance, defs, config=DEMO_RANKER)
    else:
        print(f"  {'ranker_job':<44} champion exists, skipped (run it in the UI to retrain)")
    for source in sources:
        _run("scoring_job", instance, defs, source)
    _run("selection_job", instance, defs)
    _fine_tune_once(instance, defs)
    _print_summary(Path(storage.root), sources)
    _print_selection(instance)


def _fine_tune_once(instance, defs) -> None:
    """Evaluate the fine-tune sensor on the latest subset and run what it requests, once.

    Like the daemon, a request whose run key (the subset version) already has a successful
    run launches nothing.
    """
    from dagster import build_sensor_context

    sensor = defs.resolve_sensor_def("fine_tune_sensor")
    with build_sensor_context(instance=instance, definitions=defs) as context:
        result = sensor.evaluate_tick(context)
    for request in result.run_requests or []:
        if instance.get_runs_count(filters=_run_key_filter(request.run_key)):
            print(f"  fine_tune_job[{request.run_key}] already succeeded for this subset version")
            continue
        started = time.perf_counter()
        job = defs.resolve_job_def("fine_tune_job")
        tags = {**request.tags, "dagster/run_key": request.run_key}
        run = job.execute_in_process(instance=instance, run_config=CONSOLE, tags=tags)
        status = "ok" if run.success else "FAILED"
        print(f"  {'fine_tune_job':<44} {time.perf_counter() - started:6.1f}s {status}")
    if not result.run_requests:
        print(f"  fine_tune_sensor: {result.skip_message or 'nothing to launch'}")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _run_key_filter(run_key: str):
    from dagster import DagsterRunStatus, RunsFilter

    return RunsFilter(tags={"dagster/run_key": run_key}, statuses=[DagsterRunStatus.SUCCESS])


def _print_selection(instance) -> None:
    subset = _latest_metadata(instance, "selected_subset")
    ranker = _latest_metadata(instance, "style_ranker")
    training = _latest_metadata(instance, "ranker_training_data") or {}
    print(
        f"\nStyleRanker {ranker['champion_version']} "
        f"({ranker.get('source', 'trained')}; training data: "
        f"{training.get('provenance', 'unknown')})"
    )
    print(
        f"  in-distribution accuracy (splits of that same training data, all comparisons, ties "
        f"wrong): validation {_fmt(ranker['val_accuracy'])}, test {_fmt(ranker['test_accuracy'])}"
    )
    evaluation = _latest_metadata(instance, "ranker_evaluation")
    if evaluation:
        label = (
            "in-distribution accuracy (not a real-data figure; set ranker_evaluation.pairs_path "
            "to a held-out preference file you trust)"
            if evaluation.get("in_distribution", True)
            else "held-out accuracy on your pairs file"
        )
        print(
            f"  {label}: {evaluation['pairwise_accuracy']:.3f} on {evaluation['pairs']} pairs "
            f"(Wilson 95% CI {evaluation['accuracy_ci95_low']:.3f}-"
            f"{evaluation['accuracy_ci95_high']:.3f}; {evaluation['pairs_origin']})"
        )
    print(f"selected subset {subset['subset_version']}: {subset['dagster/row_count']} rows")
    print(
        f"  ranked by selector {subset.get('selector', 'scar')} "
        f"(selector: {subset.get('selector_requested', 'scar')}): "
        f"{subset.get('selector_reason', 'the StyleRanker')}"
    )
    print(subset["per_source"])
    print("\nstyle spread (std) pool vs subset vs random subset of the same size:")
    print(subset["style_spread"])
    if evaluation:
        print("\nsubset vs random subsets over seeds (ratio < 1: more consistent than chance):")
        print(evaluation["subset_vs_random"])
    print(
        f"\nsubset files: {subset['dagster/uri']}  (alpaca.jsonl, sharegpt.jsonl, subset.parquet)"
    )
    print(f"report:       {subset['report_path']}")


def _print_summary(home: Path, sources: list[str]) -> None:
    print("\nsummary")
    rows = []
    for source in sources:
        pairs = pd.read_parquet(home / "assets" / "raw_pairs" / f"{source}.parquet")
        dropped = pd.read_parquet(home / "assets" / "raw_quarantine" / f"{source}.parquet")
        reasons = dropped["reason"].value_counts().sort_index()
        rows.append(
            {
                "source": source,
                "kept": len(pairs),
                "duplicates": int(reasons.get("ingest_duplicate", 0)),
                "quarantined": int(reasons.drop("ingest_duplicate", errors="ignore").sum()),
                "reasons": ", ".join(f"{k}={v}" for k, v in reasons.items()) or "-",
            }
        )
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"\noutputs under {home}")
    print(f"  raw pairs:      {home / 'assets' / 'raw_pairs'}")
    print(f"  quarantine:     {home / 'assets' / 'raw_quarantine'}")
    print(f"  style features: {home / 'assets' / 'style_features'}")
    print("browse lineage, metadata and checks with `make dev` (http://127.0.0.1:3000)")


if __name__ == "__main__":
    main()
