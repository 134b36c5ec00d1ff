"""The landing-zone sensor adds partitions and requests each file version's ingest once, and
nothing for files that the latest raw_pairs materialization already read, whatever its cursor."""

import os

from dagster import build_sensor_context

from definitions import build_resources, defs
from tests.pipeline import ingest_run, write_jsonl

landing_zone_sensor = defs.resolve_sensor_def("landing_zone_sensor")


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


def test_empty_cursor_over_ingested_sources_requests_nothing_then_one_run_per_change(
    instance, home, landing
):
    write_jsonl(landing / "forum" / "a.jsonl", [{"prompt": "q", "response": "a"}])
    write_jsonl(landing / "guides" / "g.jsonl", [{"prompt": "q", "response": "a"}])
    instance.add_dynamic_partitions("data_source", ["forum", "guides"])
    for source in ("forum", "guides"):
        ingest_run(instance, home, landing, source)

    fresh = _tick(instance, home, landing)  # a new instance's sensor, a reset or lost cursor
    assert fresh.run_requests == [] and fresh.dynamic_partitions_requests == []

    changed = landing / "forum" / "a.jsonl"
    write_jsonl(changed, [{"prompt": "q", "response": "a"}, {"prompt": "q2", "response": "b"}])
    os.utime(changed, ns=(1, 2_000_000_000_000_000_000))
    after = _tick(instance, home, landing, fresh.cursor)
    assert [r.partition_key for r in after.run_requests] == ["forum"]
    assert after.run_requests[0].tags["scar/changed_files"] == "1"
    assert _tick(instance, home, landing, after.cursor).run_requests == []
    reset = _tick(instance, home, landing)  # the cursor lost before the run finished
    assert [r.run_key for r in reset.run_requests] == [after.run_requests[0].run_key]

    ingest_run(instance, home, landing, "forum")
    assert _tick(instance, home, landing).run_requests == []


def test_removed_file_requests_one_run_and_every_change_gets_its_own_run_key(
    instance, home, landing
):
    write_jsonl(landing / "forum" / "a.jsonl", [{"prompt": "q", "response": "a"}])
    extra = write_jsonl(landing / "forum" / "b.jsonl", [{"prompt": "q2", "response": "b"}])
    first = _tick(instance, home, landing)
    ingest_run(instance, home, landing, "forum")
    stat = extra.stat()

    extra.unlink()
    removed = _tick(instance, home, landing, first.cursor)
    assert [r.partition_key for r in removed.run_requests] == ["forum"]
    assert removed.run_requests[0].tags["scar/changed_files"] == "1"
    ingest_run(instance, home, landing, "forum")

    write_jsonl(extra, [{"prompt": "q2", "response": "b"}])  # back to the first state
    os.utime(extra, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    restored = _tick(instance, home, landing, removed.cursor)
    keys = [t.run_requests[0].run_key for t in (first, removed, restored)]
    assert len(set(keys)) == 3  # the daemon would skip a reused key


def test_a_config_change_re_ingests_its_source_exactly_once(instance, home, landing):
    write_jsonl(landing / "forum" / "a.jsonl", [{"prompt": "q", "response": "a"}])
    write_jsonl(landing / "guides" / "g.jsonl", [{"prompt": "q", "response": "a"}])
    config = landing / "forum" / "scar_source.toml"
    config.write_text('origin = "v1"\n')
    first = _tick(instance, home, landing)
    assert sorted(r.partition_key for r in first.run_requests) == ["forum", "guides"]
    for source in ("forum", "guides"):
        ingest_run(instance, home, landing, source)
    assert _tick(instance, home, landing).run_requests == []

    stat = config.stat()
    config.write_text('origin = "v1"\n')  # rewritten, same bytes, a newer mtime
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert _tick(instance, home, landing).run_requests == []

    config.write_text('origin = "v2"\n')
    changed = _tick(instance, home, landing)
    assert [(r.partition_key, r.tags["scar/changed_files"]) for r in changed.run_requests] == [
        ("forum", "1")
    ]
    assert _tick(instance, home, landing, changed.cursor).run_requests == []
    again = _tick(instance, home, landing)  # the cursor lost before the run finished
    assert [r.run_key for r in again.run_requests] == [changed.run_requests[0].run_key]
    ingest_run(instance, home, landing, "forum")
    assert _tick(instance, home, landing).run_requests == []
    assert _tick(instance, home, landing, changed.cursor).run_requests == []

    config.write_text('origin = "v1"\n')  # back to the first content: a change again
    back = _tick(instance, home, landing, changed.cursor)
    assert [r.partition_key for r in back.run_requests] == ["forum"]
    assert back.run_requests[0].run_key not in {
        first.run_requests[0].run_key,
        again.run_requests[0].run_key,
    }
    config.unlink()  # removing the config is a change too
    assert [r.partition_key for r in _tick(instance, home, landing, back.cursor).run_requests] == [
        "forum"
    ]


def test_a_new_symlink_requests_the_run_that_records_it(instance, home, landing, tmp_path):
    write_jsonl(landing / "forum" / "a.jsonl", [{"prompt": "q", "response": "a"}])
    first = _tick(instance, home, landing)
    ingest_run(instance, home, landing, "forum")
    (landing / "forum" / "elsewhere.jsonl").symlink_to(tmp_path / "outside.jsonl")
    linked = _tick(instance, home, landing, first.cursor)
    assert [r.partition_key for r in linked.run_requests] == ["forum"]
    ingest_run(instance, home, landing, "forum")
    assert _tick(instance, home, landing).run_requests == []
