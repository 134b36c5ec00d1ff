"""Training data in three formats: SCAR's released folder, preference pairs, our quadruples."""

from __future__ import annotations

import json

import pytest

from scar_dagster import schema
from scar_dagster.ranker.data.preference import PreferencePair, as_pairs, load_preference_pairs
from scar_dagster.ranker.data.scar_data import ScarDataError, read_scar_data
from scar_dagster.ranker.data.sourcing import (
    PREFERENCE_PAIRS,
    QUADRUPLES,
    SCAR_FOLDER,
    load_training_data,
)
from scar_dagster.ranker.model.architecture import RankerConfig, build_tiny_ranker
from scar_dagster.ranker.model.train import TrainParams, seed_everything, train_ranker
from scar_dagster.storage.stores import LocalStore
from tests.planted import TOPICS, forum, guide, quadruple_rows
from tests.scar_layout import scar_key, write_scar_data


def _faulty_scar_folder(tmp_path):
    """Ten good quadruples, then four rows with one planted fault each."""
    rows = quadruple_rows(14)
    folder = write_scar_data(tmp_path / "scar", rows)
    responses = folder / "instruction_response"
    referenced = json.loads((responses / "referenced.json").read_text())
    referenced[10]["instruction"] = "another question"  # misaligned
    (responses / "referenced.json").write_text(json.dumps(referenced))
    scores = folder / "quality_measure"
    help_direct = json.loads((scores / "direct_help_score.json").read_text())
    del help_direct[scar_key(rows[11]["instruction"], rows[11]["direct"])]  # missing key
    help_direct[scar_key(rows[12]["instruction"], rows[12]["direct"])] = 11  # out of range
    (scores / "direct_help_score.json").write_text(json.dumps(help_direct))
    correct_human = json.loads((scores / "human_correct_score.json").read_text())
    correct_human[scar_key(rows[13]["instruction"], rows[13]["human"])] = "7"  # a non-number
    (scores / "human_correct_score.json").write_text(json.dumps(correct_human))
    return folder, rows


def test_scar_folder_with_planted_faults_rejects_exactly_those_rows(tmp_path):
    folder, rows = _faulty_scar_folder(tmp_path)
    data = load_training_data(str(folder))
    assert data.format == SCAR_FOLDER
    assert [(d.origin_line, d.reason) for d in data.quarantined] == [
        (11, schema.SCAR_DATA_MISALIGNED),
        (12, schema.SCAR_DATA_MISSING_SCORE),
        (13, schema.SCAR_DATA_SCORE_OUT_OF_RANGE),
        (14, schema.SCAR_DATA_SCORE_NON_NUMERIC),
    ]
    assert [row["instruction"] for row in data.rows] == [r["instruction"] for r in rows[:10]]
    summary = data.summary()
    assert summary["quadruples"] == 10 and summary["quarantined"] == 4
    assert summary["quarantined_by_reason"] == {
        schema.SCAR_DATA_MISSING_SCORE: 1,
        schema.SCAR_DATA_MISALIGNED: 1,
        schema.SCAR_DATA_SCORE_NON_NUMERIC: 1,
        schema.SCAR_DATA_SCORE_OUT_OF_RANGE: 1,
    }
    assert summary["allowed_pairs"] == {
        "direct>referenced": 10,
        "referenced>human": 10,
        "direct>human": 10,
    }


def test_scar_quality_is_the_mean_of_help_and_correct_or_either_alone(tmp_path):
    rows = quadruple_rows(3)
    scores = {
        kind: {
            "help": {scar_key(r["instruction"], r[kind]): 8 for r in rows},
            "correct": {scar_key(r["instruction"], r[kind]): 3.0 for r in rows},
        }
        for kind in ("human", "referenced", "direct")
    }
    store = LocalStore(write_scar_data(tmp_path / "s", rows, scores))
    assert {r["quality_direct"] for r in read_scar_data(store)[0]} == {5.5}
    assert {r["quality_human"] for r in read_scar_data(store, quality="help")[0]} == {8.0}
    assert {r["quality_human"] for r in read_scar_data(store, quality="correct")[0]} == {3.0}


@pytest.mark.parametrize("fault", ["no_folder", "missing_score_file", "lengths", "not_array"])
def test_structurally_wrong_scar_folder_is_a_clear_error(tmp_path, fault):
    folder = write_scar_data(tmp_path / "s", quadruple_rows(3))
    if fault == "no_folder":
        (tmp_path / "empty").mkdir()
        folder, match = tmp_path / "empty", "not a SCAR data folder.*human.json is missing"
    elif fault == "missing_score_file":
        (folder / "quality_measure" / "referenced_correct_score.json").unlink()
        match = "referenced_correct_score.json is missing"
    elif fault == "lengths":
        path = folder / "instruction_response" / "direct.json"
        path.write_text(json.dumps(json.loads(path.read_text())[:2]))
        match = "lengths differ"
    else:
        (folder / "instruction_response" / "human.json").write_text('{"a": 1}')
        match = "expected a JSON array"
    with pytest.raises(ScarDataError, match=match):
        load_training_data(str(folder))


def test_scar_folder_reads_from_s3(s3_client, tmp_path):
    client = s3_client
    client.create_bucket(Bucket="scar")
    folder, _ = _faulty_scar_folder(tmp_path)
    for path in folder.rglob("*.json"):
        client.put_object(
            Bucket="scar", Key=f"open/gpt35/{path.relative_to(folder)}", Body=path.read_bytes()
        )
    data = load_training_data("s3://scar/open/gpt35", s3_client=client)
    assert (data.format, len(data.rows), len(data.quarantined)) == (SCAR_FOLDER, 10, 4)


def test_preference_pairs_in_common_spellings(tmp_path):
    lines = [
        {"instruction": "Q1", "chosen": "good", "rejected": "bad", "chosen_score": 8},
        {"prompt": "Q2", "chosen": "good", "rejected": "bad"},
        {
            "chosen": [{"role": "user", "content": "Q3"}, {"role": "assistant", "content": "A"}],
            "rejected": [{"role": "user", "content": "Q3"}, {"role": "assistant", "content": "B"}],
        },
        "{broken",
        {"instruction": "Q5", "chosen": "x"},
        {"instruction": "Q6", "chosen": "x", "rejected": 3},
        {"instruction": "Q7", "chosen": " ", "rejected": "y"},
        {"instruction": "Q8", "chosen": "x", "rejected": "y", "rejected_score": 10},
        {"instruction": "Q9", "chosen": "x", "rejected": "y", "chosen_score": "high"},
        [1, 2],
    ]
    data = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    rows, quarantined = load_preference_pairs(data.encode(), "p.jsonl")
    assert [(r["instruction"], r["chosen"], r["rejected"]) for r in rows] == [
        ("Q1", "good", "bad"),
        ("Q2", "good", "bad"),
        ("Q3", "A", "B"),
    ]
    assert as_pairs(rows)[0] == PreferencePair("Q1", "good", "bad", 8.0, None)
    assert [(d.origin_line, d.reason) for d in quarantined] == [
        (4, schema.PAIRS_MALFORMED_JSON),
        (5, schema.PAIRS_MISSING_FIELD),
        (6, schema.PAIRS_NON_STRING),
        (7, schema.PAIRS_EMPTY_TEXT),
        (8, schema.PAIRS_SCORE_OUT_OF_RANGE),
        (9, schema.PAIRS_SCORE_NON_NUMERIC),
        (10, schema.PAIRS_NOT_OBJECT),
    ]
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps([lines[0], lines[1]]))
    assert load_training_data(str(path)).format == PREFERENCE_PAIRS


def planted_pairs() -> list[dict]:
    """chosen = a markdown guide, quarantined = a terse forum answer; 40 pairs."""
    return [
        {"instruction": ask.format(t), "chosen": guide(t), "rejected": forum(t, i)}
        for ask in ("How do I {}?", "What is the best way to {}?")
        for i, t in enumerate(TOPICS)
    ]


def test_preference_pairs_with_a_planted_style_contrast_train_to_high_accuracy(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in planted_pairs()))
    data = load_training_data(str(path))
    assert data.summary()["pairs"] == 40
    seed_everything(0)
    model, tokenizer = build_tiny_ranker(RankerConfig(hidden_dim=32, max_length=64))
    params = TrainParams(epochs=4, batch_size=4, lr=2e-3, seed=3)
    result = train_ranker(model, tokenizer, data.records(), params, log=lambda _: None)
    assert result.metrics["data"] == "preference_pairs"
    assert result.metrics["val"]["reference_accuracy"] >= 0.9
    assert result.metrics["val"]["comparisons"] == 4
    assert result.metrics["history"][0]["rank_chosen_rejected"] > 0


def test_quadruple_jsonl_is_still_read_and_rated(tmp_path):
    rows = quadruple_rows(4)
    del rows[0]["quality_human"]
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    data = load_training_data(str(path))
    assert data.format == QUADRUPLES and len(data.rows) == 4
    assert data.rows[0]["quality_human"] is not None  # rated by the heuristic judge
    assert data.quarantined_by_reason() == {"quadruple_malformed_json": 1}


def test_scar_row_with_an_empty_output_is_rejected_not_trained_on(tmp_path):
    rows = quadruple_rows(3)
    rows[1]["direct"] = "  "
    data = load_training_data(str(write_scar_data(tmp_path / "s", rows)))
    assert [(d.origin_line, d.reason) for d in data.quarantined] == [
        (2, schema.SCAR_DATA_EMPTY_TEXT)
    ]


def test_pair_scores_feed_the_quality_constraint(tmp_path):
    rows = [
        {
            "instruction": "a",
            "chosen": "x",
            "rejected": "y",
            "chosen_score": 8,
            "rejected_score": 7,
        },
        {
            "instruction": "b",
            "chosen": "x",
            "rejected": "y",
            "chosen_score": 8,
            "rejected_score": 4,
        },
        {"instruction": "c", "chosen": "same", "rejected": " same "},
        {"instruction": "d", "chosen": "x", "rejected": "y"},
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = load_training_data(str(path)).summary()
    assert (summary["pairs"], summary["allowed_pairs"]) == (4, {"chosen>rejected": 2})
