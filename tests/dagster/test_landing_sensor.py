"""The landing-zone sensor adds partitions and requests each file version's ingest once."""

import os

from dagster import build_sensor_context

from assets.jobs import landing_zone_sensor
from definitions import build_resources
from tests.pipeline import write_jsonl


def _tick(instance, home, landing, cursor=None):
    with build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources=build_resources(str(home), str(landing)),
    ) as context:
        result = landing_zone_sensor(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_new_changed_and_unchanged_files(instance, home, landing):
    write_jsonl(landing / "forum" / "a.jsonl", [{"prompt": "q", "response": "a"}])
    write_jsonl(landing / "guides" / "g.jsonl", [{"prompt": "q", "response": "a"}])

    first = _tick(instance, home, landing)
    assert [list(r.partition_keys) for r in first.dynamic_partitions_requests] == [
        ["forum", "guides"]
    ]
    assert sorted(r.partition_key for r in first.run_requests) == ["forum", "guides"]

    again = _tick(instance, home, landing, first.cursor)
    assert again.run_requests == [] and again.dynamic_partitions_requests == []

    changed = landing / "forum" / "a.jsonl"
    write_jsonl(changed, [{"prompt": "q", "response": "a"}, {"prompt": "q2", "response": "b"}])
    os.utime(changed, ns=(1, 2_000_000_000_000_000_000))
    third = _tick(instance, home, landing, again.cursor)
    assert [r.partition_key for r in third.run_requests] == ["forum"]
    assert third.dynamic_partitions_requests == []
    first_keys = {r.run_key for r in first.run_requests}
    assert third.run_requests[0].run_key not in first_keys

    write_jsonl(landing / "forum" / "b.jsonl", [{"prompt": "new", "response": "file"}])
    fourth = _tick(instance, home, landing, third.cursor)
    assert [r.partition_key for r in fourth.run_requests] == ["forum"]


def test_hostile_folder_names_are_skipped(instance, home, landing):
    write_jsonl(landing / "bad name" / "a.jsonl", [{"prompt": "q", "response": "a"}])
    write_jsonl(landing / "x\u202etxt" / "a.jsonl", [{"prompt": "q", "response": "a"}])
    write_jsonl(landing / "ok" / "a.jsonl", [{"prompt": "q", "response": "a"}])
    result = _tick(instance, home, landing)
    assert [r.partition_key for r in result.run_requests] == ["ok"]
    assert instance.get_dynamic_partitions("data_source") == ["ok"]


def test_empty_landing_zone_requests_nothing(instance, home, landing):
    result = _tick(instance, home, landing)
    assert result.run_requests == [] and result.dynamic_partitions_requests == []
