"""Multi-turn conversations under the three turn policies: exact pairs, exact counts, stable ids."""

import json

import pytest

from scar_dagster import schema as r
from scar_dagster.ingest.canonical import pair_id
from scar_dagster.ingest.conversations import RawPair, conversation_pairs, render
from scar_dagster.ingest.errors import RecordQuarantined
from scar_dagster.ingest.pipeline import ingest_source
from scar_dagster.storage.stores import LocalStore

# system, a greeting before any user turn, 3 exchanges, a trailing user turn: 9 turns
TALK = [
    {"from": "system", "value": "Be brief."},
    {"from": "gpt", "value": "Hello! Ask me anything."},
    {"from": "human", "value": "What is 2+2?"},
    {"from": "gpt", "value": "4."},
    {"from": "human", "value": "And 3+3?"},
    {"from": "gpt", "value": "6."},
    {"from": "human", "value": "Thanks. One more: 4+4?"},
    {"from": "gpt", "value": "8."},
    {"from": "human", "value": "Bye"},
]
SECOND = "User: What is 2+2?\n\nAssistant: 4.\n\nUser: And 3+3?"
THIRD = SECOND + "\n\nAssistant: 6.\n\nUser: Thanks. One more: 4+4?"


def _pairs(turns: str, system_prompt: str = "drop", talk=TALK):
    result = conversation_pairs(talk, "conversations", turns=turns, system_prompt=system_prompt)
    return [(p.turn, p.instruction, p.response) for p in result.pairs], result


@pytest.mark.parametrize(
    ("turns", "expected", "used"),
    [
        ("first", [(4, "What is 2+2?", "4.")], 2),
        ("last", [(8, THIRD, "8.")], 6),
        ("all", [(4, "What is 2+2?", "4."), (6, SECOND, "6."), (8, THIRD, "8.")], 6),
    ],
)
def test_each_turn_policy_takes_exactly_its_pairs_and_counts_the_rest(turns, expected, used):
    pairs, result = _pairs(turns)
    assert pairs == expected
    assert (result.turns, result.used, result.unused) == (9, used, 9 - used)


def test_prepend_puts_the_system_prompt_before_every_instruction():
    pairs, result = _pairs("all", "prepend")
    assert [instruction for _, instruction, _ in pairs] == [
        "Be brief.\n\nWhat is 2+2?",
        f"Be brief.\n\n{SECOND}",
        f"Be brief.\n\n{THIRD}",
    ]
    assert result.unused == 2  # the greeting before the first user turn and the trailing "Bye"


def test_the_template_renders_other_roles_by_name():
    assert render([("user", "Q")]) == "Q"
    assert render([("user", "Q"), ("tool", "42")]) == "User: Q\n\nTool: 42"


def test_a_hugging_face_sequence_of_dicts_is_a_conversation():
    columns = {"from": [t["from"] for t in TALK], "value": [t["value"] for t in TALK]}
    assert _pairs("all", talk=columns)[0] == _pairs("all")[0]


def test_a_bad_turn_rejects_only_the_pairs_that_use_it():
    talk = [*TALK[:4], {"from": "human", "value": 5}, *TALK[5:]]
    assert _pairs("first", talk=talk)[0] == [(4, "What is 2+2?", "4.")]  # turn 5 unused
    result = conversation_pairs(talk, "conversations", turns="all")
    first, *later = result.pairs
    assert isinstance(first, RawPair)
    assert [(row.reason, row.turn) for row in later] == [
        (r.INGEST_NON_STRING, 6),
        (r.INGEST_NON_STRING, 8),
    ]
    assert "conversations[5].value" in later[0].detail


@pytest.mark.parametrize(
    ("talk", "words"),
    [
        ([{"from": "gpt", "value": "hi"}], "no human turn"),
        ([{"from": "human", "value": "hi"}], "no assistant turn after the first human turn"),
        ("hello", "not a list"),
        (["hello"], "turn 1 of 'conversations' is str"),
    ],
)
def test_a_conversation_without_a_pair_is_rejected_whole(talk, words):
    with pytest.raises(RecordQuarantined, match=words):
        conversation_pairs(talk, "conversations")


def _landing(tmp_path, config: str) -> LocalStore:
    folder = tmp_path / "chats"
    folder.mkdir()
    (folder / "scar_source.toml").write_text(config)
    rows = [
        {"conversations": TALK},
        {"conversations": TALK[2:6]},  # its pairs are the first two of the first record
        {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": " "}]},
        {"prompt": "flat", "response": "record"},
    ]
    (folder / "a.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return LocalStore(tmp_path)


@pytest.mark.parametrize(
    ("turns", "kept", "duplicates", "quarantined", "unused"),
    [
        ("first", 2, 1, 1, 7 + 2 + 0),  # kept: 2+2? (record 1) and the flat record
        ("last", 3, 0, 1, 3 + 0 + 0),  # 4+4? (1), 3+3? (2), flat
        ("all", 4, 2, 1, 3 + 0 + 0),  # 3 of record 1, the 2 of record 2 are copies, flat
    ],
)
def test_turn_policies_through_ingest_keep_the_accounting(
    tmp_path, turns, kept, duplicates, quarantined, unused
):
    result = ingest_source(_landing(tmp_path, f'turns = "{turns}"\n'), "chats")
    assert (len(result.pairs), result.duplicates, result.quarantined) == (
        kept,
        duplicates,
        quarantined,
    )
    assert result.input_records == 4
    assert result.input_rows == kept + duplicates + quarantined
    stats = result.read.stats
    assert (stats.conversations, stats.turns, stats.unused_turns) == (3, 9 + 4 + 2, unused)
    assert stats.file_layouts() == {"a.jsonl": {"prompt_response": 1, "sharegpt": 3}}
    empty = result.dropped[result.dropped["reason"] == r.INGEST_EMPTY_TEXT]
    assert empty[["origin_line", "origin_turn"]].values.tolist() == [[3, 2]]


def test_ids_are_content_ids_stable_across_policies_and_runs(tmp_path):
    store = _landing(tmp_path, 'turns = "all"\n')
    every = ingest_source(store, "chats").pairs
    assert every["id"].tolist() == ingest_source(store, "chats").pairs["id"].tolist()
    assert every["id"].iloc[0] == pair_id("What is 2+2?", "4.")
    (tmp_path / "chats" / "scar_source.toml").write_text('turns = "first"\n')
    first = ingest_source(store, "chats").pairs
    assert set(first["id"]) <= set(every["id"])
    assert every[["origin_line", "origin_turn"]].values.tolist() == [[1, 4], [1, 6], [1, 8], [4, 0]]
