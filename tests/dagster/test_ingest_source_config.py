"""scar_source.toml through the ingest asset: the config in the metadata and the data version,
turn counts and layouts shown, and a bad config failing the step before anything is written."""

import pandas as pd
from dagster import materialize

from assets import ingest
from definitions import build_resources
from tests.pipeline import write_jsonl

TALK = {
    "conversations": [
        {"from": "human", "value": "Q1"},
        {"from": "gpt", "value": "A1"},
        {"from": "human", "value": "Q2"},
        {"from": "gpt", "value": "A2"},
        {"from": "human", "value": "unanswered"},
    ]
}


def _run(instance, home, landing, **kwargs):
    if "chats" not in instance.get_dynamic_partitions("data_source"):
        instance.add_dynamic_partitions("data_source", ["chats"])
    return materialize(
        [ingest.ingest_source_assets],
        partition_key="chats",
        instance=instance,
        resources=build_resources(str(home), str(landing)),
        **kwargs,
    )


def _outputs(result) -> dict:
    return {
        m.asset_key.to_user_string(): m
        for m in result.asset_materializations_for_node("ingest_source")
    }


def test_the_config_in_force_is_in_the_metadata_and_the_data_version(instance, home, landing):
    write_jsonl(landing / "chats" / "a.jsonl", [TALK, {"prompt": "P", "completion": "C"}])
    config = landing / "chats" / "scar_source.toml"
    config.write_text('turns = "all"\norigin = "forum"\n')
    first = _outputs(_run(instance, home, landing))
    meta = {k: v.value for k, v in first["raw_pairs"].metadata.items()}
    assert meta["source_config"]["settings"]["turns"] == "all"
    assert len(meta["source_config"]["file_sha256"]) == 64
    assert meta["layouts"] == {"a.jsonl": {"prompt_completion": 1, "sharegpt": 1}}
    assert meta["turns"] == {
        "conversations": 1,
        "turns": 5,
        "used_turns": 4,
        "unused_turns": 1,
        "extra_turn_pairs": 1,
    }
    assert (meta["input_records"], meta["input_rows"], meta["dagster/row_count"]) == (2, 3, 3)
    pairs = pd.read_parquet(home / "assets" / "raw_pairs" / "chats.parquet")
    pairs = pairs.sort_values(["origin_line", "origin_turn"])  # stored in bucket order
    assert pairs["origin"].tolist() == ["forum"] * 3
    assert pairs["origin_turn"].tolist() == [2, 4, 0]

    config.write_text('turns = "all"\norigin = "forum"\n# a comment changes nothing\n')
    same = _outputs(_run(instance, home, landing))
    assert (
        same["raw_pairs"].tags["dagster/data_version"]
        == first["raw_pairs"].tags["dagster/data_version"]
    )
    config.write_text('turns = "last"\norigin = "forum"\n')
    last = _outputs(_run(instance, home, landing))
    assert (
        last["raw_pairs"].tags["dagster/data_version"]
        != first["raw_pairs"].tags["dagster/data_version"]
    )
    assert last["raw_pairs"].metadata["dagster/row_count"].value == 2


def test_a_bad_config_fails_at_once_naming_key_and_file_and_writes_nothing(instance, home, landing):
    write_jsonl(landing / "chats" / "a.jsonl", [TALK])
    (landing / "chats" / "scar_source.toml").write_text('turns = "all"\nencoding = "klingon"\n')
    result = _run(instance, home, landing, raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.user_failure_data.description
    assert str(landing / "chats" / "scar_source.toml") in message and "key 'encoding'" in message
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == []
    assert not (home / "assets").exists()
