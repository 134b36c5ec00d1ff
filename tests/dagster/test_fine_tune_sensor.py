"""The fine-tune sensor: gate checks read through public records, one run per subset version
whoever launched it (a ``make demo`` run tagged with the version counts as done)."""

from dagster import (
    AssetCheckResult,
    AssetKey,
    Definitions,
    MaterializeResult,
    asset,
    asset_check,
    build_sensor_context,
    define_asset_job,
    materialize,
)

from scar_dagster.dagster.sensors import SUBSET_VERSION_TAG, build_fine_tune_sensor

VERSION = "v-0001"


def _graph(passes: bool):
    @asset(name="subset")
    def subset() -> MaterializeResult:
        return MaterializeResult(metadata={"subset_version": VERSION})

    @asset_check(asset="subset", name="gate", blocking=True)
    def gate() -> AssetCheckResult:
        return AssetCheckResult(passed=passes)

    @asset(name="tuned", deps=["subset"])
    def tuned() -> None:
        return None

    job = define_asset_job("tune_job", selection=["tuned"])
    sensor = build_fine_tune_sensor(job, AssetKey("subset"), ["gate"])
    defs = Definitions(assets=[subset, tuned], asset_checks=[gate], jobs=[job], sensors=[sensor])
    return defs, [subset, gate]


def _tick(instance, defs, cursor=None):
    sensor = defs.resolve_sensor_def("fine_tune_sensor")
    with build_sensor_context(instance=instance, cursor=cursor, definitions=defs) as context:
        return sensor.evaluate_tick(context)


def test_a_passing_subset_is_fine_tuned_once_even_when_the_demo_did_it(instance):
    defs, upstream = _graph(passes=True)
    assert materialize(upstream, instance=instance).success
    first = _tick(instance, defs)
    assert [(r.run_key, r.tags[SUBSET_VERSION_TAG]) for r in first.run_requests] == [
        (VERSION, VERSION)
    ]
    assert _tick(instance, defs, first.cursor).run_requests == []

    tags = {SUBSET_VERSION_TAG: VERSION, "dagster/run_key": VERSION}  # as scripts/demo.py runs it
    assert defs.resolve_job_def("tune_job").execute_in_process(instance=instance, tags=tags).success
    reset = _tick(instance, defs)  # a new daemon cursor after `make demo`
    assert reset.run_requests == [] and "already fine-tuned" in reset.skip_message


def test_a_failed_gate_blocks_fine_tuning(instance):
    defs, upstream = _graph(passes=False)
    materialize(upstream, instance=instance, raise_on_error=False)
    tick = _tick(instance, defs)
    assert tick.run_requests == [] and "gate failed" in tick.skip_message
