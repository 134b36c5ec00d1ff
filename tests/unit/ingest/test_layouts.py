"""The layouts the hubs use, found without config; ambiguity named; OpenAI content parts."""

import pytest

from scar_dagster import schema as r
from scar_dagster.ingest.normalize import RecordQuarantined, record_pairs


def _rows(record: dict):
    return record_pairs(record, source="s", origin_file="f", origin_line=1)


def _reject(record: dict) -> RecordQuarantined:
    with pytest.raises(RecordQuarantined) as caught:
        _rows(record)
    return caught.value


@pytest.mark.parametrize(
    ("record", "layout", "instruction", "response"),
    [
        ({"instruction": "I", "input": "x", "output": "O"}, "alpaca", "I\n\nx", "O"),
        ({"instruction": "I", "context": "c", "response": "R"}, "dolly", "I\n\nc", "R"),
        ({"prompt": "P", "response": "R"}, "prompt_response", "P", "R"),
        ({"prompt": "P", "completion": " C"}, "prompt_completion", "P", "C"),
        ({"question": "Q", "answer": "A"}, "question_answer", "Q", "A"),
        ({"query": "Q", "response": "R", "id": 3}, "query_response", "Q", "R"),
        ({"input": "In", "output": "Out"}, "input_output", "In", "Out"),
        (
            {"messages": [{"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}]},
            "openai_messages",
            "U",
            "A",
        ),
        (
            {"conversations": [{"from": "human", "value": "H"}, {"from": "gpt", "value": "G"}]},
            "sharegpt",
            "H",
            "G",
        ),
    ],
)
def test_each_layout_is_found_without_config(record, layout, instruction, response):
    result = _rows(record)
    assert result.layout == layout
    (pair,) = result.rows
    assert (pair.instruction, pair.response) == (instruction, response)


def test_alpaca_with_input_is_alpaca_not_input_output():
    assert _rows({"instruction": "I", "input": "x", "output": "O"}).layout == "alpaca"
    assert _rows({"input": "x", "output": "O"}).layout == "input_output"


@pytest.mark.parametrize(
    ("record", "names"),
    [
        (
            {"prompt": "P", "response": "R", "completion": "C"},
            ["prompt_response", "prompt_completion"],
        ),
        (
            {"question": "Q", "answer": "A", "query": "Q", "response": "R"},
            ["question_answer", "query_response"],
        ),
        ({"instruction": "I", "output": "O", "response": "R"}, ["alpaca", "dolly"]),
        (
            {"messages": [], "prompt": "P", "completion": "C"},
            ["prompt_completion", "openai_messages"],
        ),
    ],
)
def test_an_ambiguous_record_names_the_candidate_layouts(record, names):
    rejected = _reject(record)
    assert rejected.reason == r.INGEST_AMBIGUOUS_LAYOUT
    for name in names:
        assert name in rejected.detail
    assert "[fields] in scar_source.toml" in rejected.detail


@pytest.mark.parametrize(
    ("record", "missing"),
    [
        ({"prompt": "P"}, "'completion' or 'response'"),
        ({"question": "Q"}, "'answer'"),
        ({"completion": "C"}, "'prompt'"),
    ],
)
def test_half_a_layout_names_the_missing_field(record, missing):
    rejected = _reject(record)
    assert (rejected.reason, rejected.detail) == (
        r.INGEST_MISSING_FIELD,
        f"field {missing} is missing",
    )


def test_an_unknown_layout_says_how_to_map_it_and_spots_a_wrapped_file():
    rejected = _reject({"title": "T", "body": "B"})
    assert rejected.reason == r.INGEST_UNKNOWN_FORMAT
    assert "(body, title)" in rejected.detail and "[fields]" in rejected.detail
    wrapped = _reject({"version": "1.1", "data": [{"q": "a"}, {"q": "b"}]})
    assert 'set json_path = "data"' in wrapped.detail and "2 objects" in wrapped.detail


def _message(role: str, content) -> dict:
    return {"role": role, "content": content}


def test_openai_content_parts_are_joined_text():
    parts = [{"type": "text", "text": "Describe"}, {"type": "input_text", "text": "this."}]
    record = {"messages": [_message("user", parts), _message("assistant", [{"text": "Done."}])]}
    (pair,) = _rows(record).rows
    assert (pair.instruction, pair.response) == ("Describe\nthis.", "Done.")


def test_a_non_text_part_drops_the_record_with_its_own_reason():
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    record = {"messages": [_message("user", [image]), _message("assistant", "A cat.")]}
    (rejected,) = _rows(record).rows  # the conversation's one pair (turn 2) is not kept
    assert isinstance(rejected, RecordQuarantined) and rejected.turn == 2
    assert rejected.reason == r.INGEST_NON_TEXT_CONTENT
    assert "'image_url' part" in rejected.detail
    flat = _reject({"prompt": [image], "completion": "A cat."})
    assert flat.reason == r.INGEST_NON_TEXT_CONTENT


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (["a", "b"], r.INGEST_NON_STRING),  # a list of strings is not a part list
        ([], r.INGEST_NON_STRING),
        ([{"type": "text", "text": 5}], r.INGEST_NON_STRING),
        (None, r.INGEST_NULL_VALUE),
    ],
)
def test_content_that_is_not_text_is_rejected(value, reason):
    assert _reject({"prompt": "P", "completion": value}).reason == reason
