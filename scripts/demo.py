"""Run the whole curation pipeline on the landing zone (the bundled sample by default).

Uses the persistent Dagster instance in ``$DAGSTER_HOME`` so that ``make dev`` shows every
materialization, check and lineage edge of this run. Re-running re-materializes (outputs are
deterministic, so nothing changes); ``make clean`` starts from scratch.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _run(job_name: str, instance, defs, partition_key: str | None = None) -> None:
    started = time.perf_counter()
    job = defs.resolve_job_def(job_name)
    result = job.execute_in_process(instance=instance, partition_key=partition_key)
    if not result.success:
        raise SystemExit(f"{job_name} failed for {partition_key or 'all'}; see `make dev`")
    label = f"{job_name}[{partition_key}]" if partition_key else job_name
    print(f"  {label:<40} ok  {time.perf_counter() - started:6.1f}s", flush=True)


def main() -> None:
    from dagster import DagsterInstance

    import definitions
    from scar_dagster.ingest.landing import scan_landing_zone
    from scar_dagster.partitions import DATA_SOURCE_PARTITIONS_NAME

    defs = definitions.defs
    storage = defs.resources["storage"]
    Path(os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".scar_home" / "dagster_home"))).mkdir(
        parents=True, exist_ok=True
    )
    instance = DagsterInstance.get()
    scan = scan_landing_zone(storage.landing_store())
    sources = sorted(scan.files)
    print(f"landing zone: {storage.landing_zone} -> sources {', '.join(sources)}")
    for problem in sorted(scan.rejected.values()):
        print(f"  skipped folder: {problem}")
    known = set(instance.get_dynamic_partitions(DATA_SOURCE_PARTITIONS_NAME))
    instance.add_dynamic_partitions(
        DATA_SOURCE_PARTITIONS_NAME, [s for s in sources if s not in known]
    )

    print("materializing (Dagster instance: " + os.environ.get("DAGSTER_HOME", "?") + ")")
    for source in sources:
        _run("source_features_job", instance, defs, source)
    _print_summary(Path(storage.root), sources)


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
    print("open the Dagster UI with `make dev` (http://127.0.0.1:3000) to browse lineage")


if __name__ == "__main__":
    main()
