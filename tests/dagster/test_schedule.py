"""The re-curation schedule requests a re-scoring run per registered source, once per tick."""

from datetime import UTC, datetime

from dagster import build_schedule_context, instance_for_test

import definitions

REPO = definitions.defs.get_repository_def()
recuration_schedule = definitions.defs.resolve_schedule_def("recuration_schedule")


def test_schedule_requests_one_run_per_source():
    with instance_for_test() as instance:
        _check_schedule(instance)


def _check_schedule(instance):
    tick = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    with build_schedule_context(
        instance=instance, scheduled_execution_time=tick, repository_def=REPO
    ) as context:
        assert recuration_schedule.evaluate_tick(context).skip_message
    instance.add_dynamic_partitions("data_source", ["guides", "forum"])
    with build_schedule_context(
        instance=instance, scheduled_execution_time=tick, repository_def=REPO
    ) as context:
        requests = recuration_schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["forum", "guides"]
    assert recuration_schedule.job_name == "recuration_job"
    assert len({r.run_key for r in requests}) == 2
    assert recuration_schedule.cron_schedule == "0 3 * * *"
