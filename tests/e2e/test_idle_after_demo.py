"""``make dev`` right after ``make demo`` launches no run, nor after the sensor cursor is lost.

The home is first filled the way ``make demo`` fills it: ``scripts/demo.py``'s own steps (one
``source_features_job`` per source, ``ranker_job``, one ``scoring_job`` per source,
``selection_job``, and its one fine-tune run of the subset) run in-process against the same
``DAGSTER_HOME``, with the e2e code location (2-epoch ranker, 2-step fine-tune). Then the real
``dagster dev`` starts on that home, its three sensors on with empty cursors and a 5 s interval:
over several ticks of every sensor no run and no backfill is launched, and again after the
landing sensor's cursor is deleted through GraphQL.
"""

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import (
    LOCATION,
    ROOT,
    DagsterDev,
    prepare_home,
    ranker_run_config,
    running_dagster_dev,
    runs,
    sensor_ticks,
    wait_for,
)

pytestmark = pytest.mark.e2e

IDLE_TICKS = 3  # ticks of every sensor that must pass without a run
IDLE_TIMEOUT_S = 300.0
DEMO_TIMEOUT_S = 1200.0
SET_CURSOR = """
mutation SetCursor($selector: SensorSelector!, $cursor: String) {
  setSensorCursor(sensorSelector: $selector, cursor: $cursor) {
    __typename ... on PythonError { message }
  }
}
"""
BACKFILLS = "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id status } } } }"


def run_demo_like(quadruples: str) -> None:
    """``scripts/demo.py``'s steps with the e2e code location, against ``$DAGSTER_HOME``;
    prints the ids of the runs it made as the last line (JSON)."""
    from dagster import DagsterInstance

    from scar_dagster.ingest.landing import scan_landing_zone
    from tests.e2e import e2e_definitions

    spec = importlib.util.spec_from_file_location("scar_demo", ROOT / "scripts" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    defs = e2e_definitions.defs
    instance = DagsterInstance.get()
    sources = sorted(scan_landing_zone(defs.resources["storage"].landing_store()).files)
    instance.add_dynamic_partitions("data_source", sources)
    for source in sources:
        demo._run("source_features_job", instance, defs, source)
    ranker = defs.resolve_job_def("ranker_job").execute_in_process(
        instance=instance, run_config=ranker_run_config(Path(quadruples))
    )
    assert ranker.success, "ranker_job failed"
    for source in sources:
        demo._run("scoring_job", instance, defs, source)
    demo._run("selection_job", instance, defs)
    demo._fine_tune_once(instance, defs)
    print(json.dumps(sorted(run.run_id for run in instance.get_runs())))


@pytest.fixture(scope="module")
def after_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DagsterDev, set]]:
    """``dagster dev`` started on a home where the demo's graph already ran, and the ids of the
    demo's runs."""
    root = tmp_path_factory.mktemp("e2e_after_demo")
    env = prepare_home(root)
    quadruples = str(root / "quadruples.jsonl")
    code = f"from {__name__} import run_demo_like; run_demo_like({quadruples!r})"
    demo = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
    )
    assert demo.returncode == 0, f"demo failed:\n{demo.stdout[-3000:]}\n{demo.stderr[-3000:]}"
    demo_runs = set(json.loads(demo.stdout.strip().splitlines()[-1]))
    with running_dagster_dev(root, env) as server:
        yield server, demo_runs


def _wait_for_ticks(server: DagsterDev, after: float) -> dict[str, list[dict]]:
    """Wait until every sensor ticked ``IDLE_TICKS`` times after ``after`` (epoch seconds);
    return each sensor's ticks since ``dagster dev`` started."""

    def ticked() -> dict[str, list[dict]] | None:
        ticks = sensor_ticks(server, limit=100)
        recent = [[t for t in each if float(t["timestamp"]) > after] for each in ticks.values()]
        return ticks if all(len(each) >= IDLE_TICKS for each in recent) else None

    return wait_for(
        f"{IDLE_TICKS} ticks of every sensor", ticked, IDLE_TIMEOUT_S, server.diagnostics, 2.0
    )


def _assert_nothing_launched(server: DagsterDev, demo_runs: set[str], ticks: dict) -> None:
    """No run but the demo's, no backfill, and no sensor tick that launched or failed."""
    launched = [r for r in runs(server) if r["runId"] not in demo_runs]
    assert launched == [], f"runs launched:\n{launched}\n{server.diagnostics()}"
    backfills = server.graphql(BACKFILLS)["partitionBackfillsOrError"]["results"]
    assert backfills == [], backfills
    for name, evaluated in ticks.items():
        bad = [t for t in evaluated if t["runIds"] or t["status"] == "FAILURE"]
        assert bad == [], (name, bad)


def test_dagster_dev_after_the_demo_launches_nothing_even_after_a_cursor_reset(
    after_demo: tuple[DagsterDev, set],
) -> None:
    server, demo_runs = after_demo
    jobs = sorted(r["jobName"] for r in runs(server) if r["runId"] in demo_runs)
    assert jobs.count("source_features_job") == 2 and "fine_tune_job" in jobs, jobs
    _assert_nothing_launched(server, demo_runs, _wait_for_ticks(server, time.time()))

    selector = {
        "repositoryName": "__repository__",
        "repositoryLocationName": LOCATION,
        "sensorName": "landing_zone_sensor",
    }
    reset = server.graphql(SET_CURSOR, {"selector": selector, "cursor": None})
    assert reset["setSensorCursor"]["__typename"] == "Sensor", reset
    reset_at = time.time()
    _assert_nothing_launched(server, demo_runs, _wait_for_ticks(server, reset_at))
