"""``scar-dagster inspect``: the layouts, config, counts and examples of a file or folder, and
nothing written."""

import json

import pytest

from scar_dagster import schema as r
from scar_dagster.cli import main
from scar_dagster.ingest.inspect import inspect_path

ROWS = [
    {"prompt": "Q1", "completion": "A1"},
    {"question": "Q2", "answer": "A2"},
    {"prompt": "Q1", "completion": "A1"},
    {"instruction": "I", "output": ""},
    {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "More?"},
            {"role": "assistant", "content": "Yes"},
        ]
    },
]


@pytest.fixture()
def folder(tmp_path):
    src = tmp_path / "forum"
    src.mkdir()
    (src / "a.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS) + "{bad\n")
    (src / "b.txt").write_text("notes")
    (src / "link.jsonl").symlink_to("/")  # out of the folder's parent, the zone inspect sees
    (src / "scar_source.toml").write_text('turns = "all"\norigin = "forum"\n')
    return src


def _tree(root):
    return sorted((p.relative_to(root).as_posix(), p.lstat().st_mtime_ns) for p in root.rglob("*"))


def test_a_folder_report_has_layouts_config_counts_and_examples(folder):
    before = _tree(folder.parent)
    data = inspect_path(folder, examples=3).to_dict()
    assert _tree(folder.parent) == before  # nothing written
    assert data["config_file"] == str(folder / "scar_source.toml")
    assert data["config"]["settings"]["turns"] == "all"
    assert data["files"] == {
        "a.jsonl": {
            "format": "jsonl",
            "layouts": {
                "alpaca": 1,
                "openai_messages": 1,
                "prompt_completion": 2,
                "question_answer": 1,
            },
        },
        "b.txt": {"format": "unsupported", "layouts": {}},
    }
    assert data["skipped"] == {"link.jsonl": r.INGEST_SYMLINK_OUTSIDE_ZONE}
    assert (data["input_records"], data["input_rows"]) == (8, 9)
    assert (data["kept"], data["duplicates"], data["quarantined"]) == (4, 1, 4)
    assert data["quarantined_by_reason"] == {
        r.INGEST_DUPLICATE: 1,
        r.INGEST_EMPTY_TEXT: 1,
        r.INGEST_MALFORMED_JSON: 1,
        r.INGEST_SYMLINK_OUTSIDE_ZONE: 1,
        r.INGEST_UNSUPPORTED_FILE_TYPE: 1,
    }
    assert data["turns"]["unused_turns"] == 1  # the dropped system prompt
    assert [example["where"] for example in data["examples"]] == [
        "a.jsonl:1",
        "a.jsonl:2",
        "a.jsonl:5 turn 3",
    ]


def test_a_file_is_read_with_the_config_beside_it(folder):
    data = inspect_path(folder / "a.jsonl", examples=1).to_dict()
    assert list(data["files"]) == ["a.jsonl"] and data["skipped"] == {}
    assert (data["kept"], data["input_rows"]) == (4, 7)
    assert data["examples"] == [{"where": "a.jsonl:1", "instruction": "Q1", "response": "A1"}]


def test_the_command_prints_text_or_json_and_fails_clearly(folder, capsys):
    assert main(["inspect", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "a.jsonl  [jsonl]  layouts: alpaca: 1" in text
    assert "records: 8 read, 9 rows -> 4 kept, 1 duplicates, 4 quarantined" in text
    assert "not read: link.jsonl" in text
    assert main(["inspect", str(folder / "a.jsonl"), "--json", "--examples", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["examples"] == []
    (folder / "scar_source.toml").write_text('turns = "every"\n')
    assert main(["inspect", str(folder)]) == 1
    error = capsys.readouterr().err
    assert "scar_source.toml" in error and "key 'turns'" in error
    assert main(["inspect", str(folder / "missing.jsonl")]) == 1
