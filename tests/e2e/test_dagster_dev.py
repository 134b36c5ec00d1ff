"""End to end through the real ``dagster dev``: GraphQL launches, daemon sensors, automation.

One module-scoped scenario drives the running webserver and daemon the way a user does:

1. the daemon's landing-zone sensor registers the two planted sources and ingests them (the
   automation sensor then computes their style features);
2. ``ranker_job`` (the one stage that never runs by itself) is launched through
   ``DagsterGraphQLClient`` and succeeds; automation then scores and selects subset v1 (not
   before: the subset waits for a champion and for every requested score), and
   ``fine_tune_sensor`` fine-tunes it once;
3. a new source folder is dropped into the landing zone: the sensor registers the partition,
   automation re-scores and re-selects, ending in subset v2 fine-tuned exactly once.

The tests then read checks and materialization metadata back through GraphQL.
"""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    LOCATION,
    DagsterDev,
    ranker_run_config,
    runs,
    sensor_ticks,
    wait_for,
)
from tests.pipeline import write_jsonl
from tests.planted import TOPICS, guide

pytestmark = pytest.mark.e2e

REPOSITORY = "__repository__"
STAGE_TIMEOUT_S = 300.0
NEW_SOURCE = "manuals"
CHECKS = {
    "raw_pairs": ["raw_pairs_row_accounting"],
    "style_features": ["style_features_value_ranges", "style_features_style_drift"],
    "style_ranker": ["style_ranker_validation_accuracy"],
    "selected_subset": ["selected_subset_style_consistency", "selected_subset_integrity"],
}

METADATA_FIELDS = """
label __typename
... on TextMetadataEntry { text }
... on IntMetadataEntry { intValue intRepr }
... on FloatMetadataEntry { floatValue }
... on BoolMetadataEntry { boolValue }
... on PathMetadataEntry { path }
... on MarkdownMetadataEntry { mdStr }
... on JsonMetadataEntry { jsonString }
... on TableSchemaMetadataEntry { schema { columns { name type } } }
"""

MATERIALIZATIONS = f"""
query Materializations($key: AssetKeyInput!) {{
  assetOrError(assetKey: $key) {{
    ... on Asset {{ assetMaterializations(limit: 100) {{
      runId partition timestamp metadataEntries {{ {METADATA_FIELDS} }} }} }}
  }}
}}
"""

CHECK_EXECUTIONS = """
query Checks($key: AssetKeyInput!, $name: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $name, limit: 100) {
    runId status partition
    evaluation { success severity partition metadataEntries { label } }
  }
}
"""


def _value(entry: dict) -> Any:
    """The Python value of one GraphQL metadata entry."""
    kind = entry["__typename"]
    if kind == "IntMetadataEntry":
        return entry["intValue"] if entry["intValue"] is not None else int(entry["intRepr"])
    if kind == "JsonMetadataEntry":
        return json.loads(entry["jsonString"])
    if kind == "TableSchemaMetadataEntry":
        return {c["name"]: c["type"] for c in entry["schema"]["columns"]}
    for name in ("text", "floatValue", "boolValue", "path", "mdStr"):
        if name in entry:
            return entry[name]
    return None


def materializations(server: DagsterDev, asset: str) -> list[dict]:
    """Every materialization of ``asset``, newest first, with metadata as a dict."""
    data = server.graphql(MATERIALIZATIONS, {"key": {"path": [asset]}})["assetOrError"]
    events = data.get("assetMaterializations") or []
    return [
        {
            "run_id": e["runId"],
            "partition": e["partition"],
            "timestamp": float(e["timestamp"]),
            "metadata": {m["label"]: _value(m) for m in e["metadataEntries"]},
        }
        for e in sorted(events, key=lambda e: float(e["timestamp"]), reverse=True)
    ]


def latest_by_partition(server: DagsterDev, asset: str) -> dict[str | None, dict]:
    """The newest materialization of each partition of ``asset``."""
    latest: dict[str | None, dict] = {}
    for event in materializations(server, asset):
        latest.setdefault(event["partition"], event)
    return latest


def check_executions(server: DagsterDev, asset: str, name: str) -> list[dict]:
    """Executions of one asset check, newest first."""
    return server.graphql(CHECK_EXECUTIONS, {"key": {"path": [asset]}, "name": name})[
        "assetCheckExecutions"
    ]


def _settled_subset(server: DagsterDev, sources: set[str], after: float) -> dict | None:
    """The newest subset, once it was selected after every source's latest scores."""
    scores = latest_by_partition(server, "scored_pairs")
    if set(scores) != sources or min(e["timestamp"] for e in scores.values()) < after:
        return None
    subsets = materializations(server, "selected_subset")
    newest_scores = max(e["timestamp"] for e in scores.values())
    if not subsets or subsets[0]["timestamp"] < newest_scores:
        return None
    return subsets[0]


def _fine_tune_run(server: DagsterDev, version: str) -> dict | None:
    """The successful fine_tune_job run of subset ``version``, if any."""
    done = runs(
        server,
        pipelineName="fine_tune_job",
        tags=[{"key": "dagster/run_key", "value": version}],
        statuses=["SUCCESS"],
    )
    return done[0] if done else None


def _failed_runs(server: DagsterDev) -> list[dict]:
    """Fail the test as soon as any run failed or was canceled."""
    failed = runs(server, statuses=["FAILURE", "CANCELED"])
    if failed:
        pytest.fail(f"runs failed: {failed}\n{server.diagnostics()}", pytrace=False)
    return failed


def _wait_subset_and_fine_tune(server: DagsterDev, sources: set[str], after: float) -> dict:
    """Wait for the settled subset over ``sources`` and its one successful fine-tune run."""

    def subset() -> dict | None:
        _failed_runs(server)
        return _settled_subset(server, sources, after)

    event = wait_for(
        f"selected_subset over {sorted(sources)}",
        subset,
        STAGE_TIMEOUT_S,
        server.diagnostics,
        interval_s=2.0,
    )
    version = event["metadata"]["subset_version"]
    run = wait_for(
        f"the fine-tune run of subset {version}",
        lambda: _failed_runs(server) or _fine_tune_run(server, version),
        STAGE_TIMEOUT_S,
        server.diagnostics,
        interval_s=2.0,
    )
    return {"subset": event, "version": version, "fine_tune_run": run}


@pytest.fixture(scope="module")
def scenario(dagster_dev: DagsterDev) -> Iterator[dict]:
    """Run the three phases against the live server; return what each produced."""
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient

    server = dagster_dev
    initial = {"guides", "forum"}
    wait_for(
        "the landing-zone sensor to register and ingest guides and forum",
        lambda: set(latest_by_partition(server, "raw_pairs")) == initial,
        STAGE_TIMEOUT_S,
        server.diagnostics,
        interval_s=2.0,
    )
    wait_for(  # step 1 ends with the features automation computes for both sources
        "automation to compute style_features of guides and forum",
        lambda: set(latest_by_partition(server, "style_features")) == initial,
        STAGE_TIMEOUT_S,
        server.diagnostics,
        interval_s=2.0,
    )
    client = DagsterGraphQLClient("127.0.0.1", port_number=server.port)
    ranker_run = client.submit_job_execution(
        "ranker_job",
        repository_location_name=LOCATION,
        repository_name=REPOSITORY,
        run_config=ranker_run_config(server.quadruples),
    )
    terminal = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    status = wait_for(
        "ranker_job launched through GraphQL",
        lambda: (s := client.get_run_status(ranker_run)) in terminal and s,
        STAGE_TIMEOUT_S,
        server.diagnostics,
        interval_s=2.0,
    )
    first = _wait_subset_and_fine_tune(server, initial, after=0.0)

    dropped_at = time.time()
    write_jsonl(
        server.landing / NEW_SOURCE / "a.jsonl",
        [{"prompt": f"How do I {t}?", "response": guide(t)} for t in TOPICS[15:]],
    )
    second = _wait_subset_and_fine_tune(server, initial | {NEW_SOURCE}, after=dropped_at)
    end = float(second["fine_tune_run"]["endTime"])
    wait_for(
        "a fine_tune_sensor tick after the last fine-tune run",
        lambda: any(float(t["timestamp"]) > end for t in sensor_ticks(server)["fine_tune_sensor"]),
        120.0,
        server.diagnostics,
        interval_s=2.0,
    )
    yield {
        "server": server,
        "ranker_run": ranker_run,
        "ranker_status": status,
        "first": first,
        "second": second,
        "dropped_at": dropped_at,
    }


def test_ranker_job_launched_through_graphql_succeeds(scenario: dict) -> None:
    from dagster import DagsterRunStatus

    assert scenario["ranker_status"] == DagsterRunStatus.SUCCESS
    ranker = materializations(scenario["server"], "style_ranker")
    assert [e["run_id"] for e in ranker] == [scenario["ranker_run"]]
    assert ranker[0]["metadata"]["promoted"] is True


def test_sensor_registers_the_new_source_and_automation_ingests_it(scenario: dict) -> None:
    server = scenario["server"]
    ingest = runs(server, pipelineName="ingest_job")
    by_partition = {r["tags"].get("dagster/partition") for r in ingest}
    assert by_partition == {"guides", "forum", NEW_SOURCE}
    assert all(r["tags"].get("dagster/sensor_name") == "landing_zone_sensor" for r in ingest)
    assert len(ingest) == 3  # one run per source: each file version is ingested once
    for asset in ("raw_pairs", "style_features", "scored_pairs"):
        assert NEW_SOURCE in latest_by_partition(server, asset), asset
    automated = runs(server, tags=[{"key": "dagster/auto_materialize", "value": "true"}])
    assert automated, "the automation sensor launched no run"


def test_new_source_yields_a_new_subset_version_fine_tuned_exactly_once(scenario: dict) -> None:
    server = scenario["server"]
    first, second = scenario["first"]["version"], scenario["second"]["version"]
    assert first != second
    subset = scenario["second"]["subset"]["metadata"]
    assert NEW_SOURCE in subset["per_source"]
    assert (
        subset["ranker_version"]
        == materializations(server, "style_ranker")[0]["metadata"]["champion_version"]
    )
    for version in (first, second):
        launched = runs(
            server,
            pipelineName="fine_tune_job",
            tags=[{"key": "dagster/run_key", "value": version}],
        )
        assert len(launched) == 1, (version, launched)
        assert launched[0]["status"] == "SUCCESS"
        assert launched[0]["tags"]["dagster/sensor_name"] == "fine_tune_sensor"
    every = runs(server, pipelineName="fine_tune_job")
    keys = [r["tags"]["dagster/run_key"] for r in every]
    assert len(keys) == len(set(keys))  # never two fine-tunes of one subset version
    model = materializations(server, "fine_tuned_model")[0]["metadata"]
    assert model["subset_version"] == second
    assert model["metrics"]["steps"] == 2
    assert Path(model["output_dir"], "model.safetensors").is_file()


def test_asset_checks_ran_with_the_expected_outcomes(scenario: dict) -> None:
    server = scenario["server"]
    partition_of = {r["runId"]: r["tags"].get("dagster/partition") for r in runs(server)}
    outcomes: dict[str, dict] = {}
    severities: dict[str, set] = {}
    for asset, names in CHECKS.items():
        for name in names:
            executions = check_executions(server, asset, name)
            assert executions, f"{name} never ran"
            outcomes[name] = {
                (e["partition"] or partition_of.get(e["runId"])): e["status"]
                for e in reversed(executions)
            }
            severities[name] = {
                e["evaluation"]["severity"] for e in executions if e["status"] == "FAILED"
            }
    assert outcomes["raw_pairs_row_accounting"] == dict.fromkeys(
        ["forum", "guides", NEW_SOURCE], "SUCCEEDED"
    )
    assert outcomes["style_features_value_ranges"] == dict.fromkeys(
        ["forum", "guides", NEW_SOURCE], "SUCCEEDED"
    )
    drift = outcomes["style_features_style_drift"]
    assert set(drift) == {"forum", "guides", NEW_SOURCE}
    assert set(drift.values()) <= {"SUCCEEDED", "FAILED"}
    assert severities["style_features_style_drift"] <= {"WARN"}  # drift warns, never blocks
    assert outcomes["style_ranker_validation_accuracy"] == {None: "SUCCEEDED"}
    for name in CHECKS["selected_subset"]:
        executions = check_executions(server, "selected_subset", name)
        by_run = {e["runId"]: e["status"] for e in executions}
        for phase in ("first", "second"):
            subset_run = scenario[phase]["subset"]["run_id"]
            assert by_run[subset_run] == "SUCCEEDED", (name, phase)


def test_materializations_carry_the_promised_metadata(scenario: dict) -> None:
    server = scenario["server"]
    raw = latest_by_partition(server, "raw_pairs")
    forum = raw["forum"]["metadata"]
    assert forum["dagster/row_count"] == 16
    assert forum["input_records"] == 16 + forum["duplicates"] + forum["quarantined"]
    assert (forum["duplicates"], forum["quarantined"]) == (1, 2)
    assert {"id", "source", "instruction", "response", "origin_file", "origin_line"} <= set(
        forum["dagster/column_schema"]
    )
    assert raw[NEW_SOURCE]["metadata"]["dagster/row_count"] == len(TOPICS[15:])

    features = latest_by_partition(server, "style_features")[NEW_SOURCE]["metadata"]
    assert features["dagster/row_count"] == len(TOPICS[15:])
    assert "perplexity" in features["dagster/column_schema"]
    assert "![" in features["histograms"]
    assert Path(features["histograms_path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    first = scenario["first"]["subset"]["metadata"]
    second = scenario["second"]["subset"]["metadata"]
    assert first["diff"] == "first version"
    assert second["diff"] != "first version" and second["diff"].strip()
    for key in ("dagster/row_count", "dagster/column_schema", "per_source", "style_spread"):
        assert key in second, key
    assert second["dagster/row_count"] >= 1
    exported = Path(second["dagster/uri"])
    assert {"alpaca.jsonl", "sharegpt.jsonl", "subset.parquet"} <= {
        p.name for p in exported.iterdir()
    }
    assert Path(second["report_path"]).is_file()
    assert "![" in second["score_histogram"]
