"""scar_source.toml: every key read, every mistake a clear error naming the key and the file,
and a bad file ingests nothing of its source."""

import json

import pytest

from scar_dagster import schema as r
from scar_dagster.ingest.landing import list_source, scan_landing_zone
from scar_dagster.ingest.pipeline import ingest_source, write_source
from scar_dagster.ingest.source_config import (
    FieldMapping,
    SourceConfig,
    SourceConfigError,
    parse_source_config,
)
from scar_dagster.storage.stores import LocalStore


def _parse(text: str) -> SourceConfig:
    return parse_source_config(text.encode(), "forum/scar_source.toml")


def test_no_keys_means_the_defaults():
    assert _parse("") == SourceConfig()
    assert SourceConfig().settings() == {
        "format": None,
        "encoding": "utf-8",
        "json_path": None,
        "turns": "first",
        "system_prompt": "drop",
        "origin": None,
        "fields": None,
    }


def test_every_key_is_read():
    config = _parse(
        """
        format = "json"
        encoding = "latin-1"
        json_path = "payload.rows"
        turns = "all"
        system_prompt = "prepend"
        origin = "human answers"

        [fields]
        instruction = "q.text"
        input = "context"
        response = "answers.0"
        """
    )
    assert (config.format, config.json_path, config.turns) == ("json", "payload.rows", "all")
    assert (config.encoding, config.system_prompt, config.origin) == (
        "iso8859-1",  # Python's name for latin-1
        "prepend",
        "human answers",
    )
    assert config.fields == FieldMapping(
        instruction="q.text", input="context", response="answers.0"
    )
    assert _parse('[fields]\nconversation = "dialog"').fields == FieldMapping(conversation="dialog")


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('formatt = "json"', "formatt", "did you mean 'format'?"),
        ('turns = "every"', "turns", "'first', 'last' or 'all'"),
        ("turns = 3", "turns", "got 3"),
        ('system_prompt = "keep"', "system_prompt", "'drop' or 'prepend'"),
        ('format = "xml"', "format", "'jsonl'"),
        ('encoding = "klingon"', "encoding", "not a text encoding"),
        ('encoding = "base64"', "encoding", "not a text encoding"),
        ('json_path = "data..rows"', "json_path", "not a dotted path"),
        ('origin = "  "', "origin", "origin is empty"),
        ('[fields]\ninstruction = "q"', "fields", "set both instruction and response"),
        ('[fields]\nconversation = "c"\nresponse = "r"', "fields", "set either conversation"),
        ('[fields]\ninstruction = "q"\nresponse = "a"\nanswer = "x"', "fields.answer", "unknown"),
        ('fields = "q"', "fields", "valid dictionary"),
    ],
)
def test_a_bad_key_is_named_with_the_file(text, key, words):
    with pytest.raises(SourceConfigError) as caught:
        _parse(text)
    message = str(caught.value)
    assert message.startswith("forum/scar_source.toml: ")
    assert f"key {key!r}" in message and words in message


def test_a_file_that_is_not_toml_or_not_utf8_is_a_clear_error():
    with pytest.raises(SourceConfigError, match=r"scar_source.toml: not valid TOML: .*line 2"):
        _parse('turns = "all"\norigin = x\n')
    with pytest.raises(SourceConfigError, match="scar_source.toml: not UTF-8"):
        parse_source_config(b'origin = "caf\xe9"', "forum/scar_source.toml")


def _source(tmp_path, config: str, rows: list[dict]):
    folder = tmp_path / "forum"
    folder.mkdir()
    (folder / "scar_source.toml").write_text(config)
    (folder / "a.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return LocalStore(tmp_path)


def test_the_config_file_is_not_data(tmp_path):
    store = _source(tmp_path, 'origin = "forum dump"\n', [{"prompt": "Q", "response": "A"}])
    listing = list_source(store, "forum")
    assert [info.key for info in listing.files] == ["a.jsonl"]
    assert listing.config is not None and listing.config.key == "scar_source.toml"
    assert scan_landing_zone(store).sources["forum"].config == listing.config
    result = ingest_source(store, "forum")
    assert result.input_rows == len(result.pairs) == 1 and len(result.dropped) == 0
    assert result.pairs["origin"].tolist() == ["forum dump"]
    assert result.read.config_sha256 is not None
    assert result.read.config_summary()["settings"]["origin"] == "forum dump"


def test_without_origin_the_column_is_null(tmp_path):
    store = _source(tmp_path, "", [{"prompt": "Q", "response": "A"}])
    assert ingest_source(store, "forum").pairs["origin"].isna().all()


def test_the_field_mapping_follows_dotted_paths(tmp_path):
    config = '[fields]\ninstruction = "q.title"\ninput = "q.body"\nresponse = "answers.1.text"\n'
    rows = [
        {"q": {"title": "Why?", "body": "The sky."}, "answers": [{"text": "x"}, {"text": "Blue."}]},
        {"q": {"title": "Only one"}, "answers": [{"text": "x"}]},
    ]
    result = ingest_source(_source(tmp_path, config, rows), "forum")
    assert result.pairs[["instruction", "response"]].values.tolist() == [
        ["Why?\n\nThe sky.", "Blue."]
    ]
    (bad,) = result.dropped.itertuples()
    assert (bad.reason, bad.origin_line) == (r.INGEST_MISSING_FIELD, 2)
    assert "'answers.1.text'" in bad.detail
    assert result.input_rows == len(result.pairs) + len(result.dropped)


def test_a_bad_config_ingests_nothing_and_writes_nothing(tmp_path):
    store = _source(tmp_path, 'turns = "every"\n', [{"prompt": "Q", "response": "A"}])
    with pytest.raises(SourceConfigError) as caught:
        ingest_source(store, "forum")
    assert str(tmp_path / "forum" / "scar_source.toml") in str(caught.value)
    assert "key 'turns'" in str(caught.value)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SourceConfigError):
        write_source(store, "forum", out / "pairs.parquet", out / "dropped.parquet")
    assert list(out.iterdir()) == []
