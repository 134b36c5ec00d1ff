"""Quadruples and judge scores written in the SCAR toolkit's ranker_data layout and read back:
data moves both ways, exactly, and a row the layout cannot hold is reported, never lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scar_dagster.ranker.data.scar_data import (
    SCAR_EXPORT_SCORE_CONFLICT,
    SCAR_EXPORT_UNRATED,
    export_scar_data,
    read_scar_data,
    row_generator,
    scar_folder,
    write_scar_data,
)
from scar_dagster.ranker.data.sourcing import SCAR_FOLDER, export_scar_layout, load_training_data
from scar_dagster.storage.stores import LocalStore
from tests.planted import quadruple_rows
from tests.scar_layout import scar_key
from tests.scar_layout import write_scar_data as write_oracle

KINDS = ("human", "referenced", "direct")


def _files(folder: Path) -> dict[str, object]:
    """Every JSON file of a SCAR folder, parsed, by relative path."""
    return {str(p.relative_to(folder)): json.loads(p.read_text()) for p in folder.rglob("*.json")}


def _judged(rows: list[dict]) -> list[dict]:
    """Rows as ChatJudge leaves them: separate helpfulness and correctness, quality the mean."""
    out = []
    for n, row in enumerate(rows):
        row = dict(row)
        for kind in KINDS:
            helpful, correct = 6.0 + n % 3, 8.0
            row[f"helpfulness_{kind}"], row[f"correctness_{kind}"] = helpful, correct
            row[f"quality_{kind}"] = (helpful + correct) / 2
        out.append(row)
    return out


def test_quadruples_round_trip_through_the_layout(tmp_path):
    rows = quadruple_rows(4) + _judged(quadruple_rows(8)[4:])
    rows[0] = {**rows[0], "human": 'Un café, s\'il vous plaît — naïve "quotes" and\ttabs'}
    export = write_scar_data(rows, LocalStore(tmp_path), "ranker_data/open/gen", source="test")
    assert (export.written, export.skipped) == (8, [])
    folder = tmp_path / "ranker_data" / "open" / "gen"
    assert export.folder == str(folder)
    assert (folder / "instruction_response" / "human.json").read_bytes().isascii()  # like json.dump
    back, quarantined = read_scar_data(LocalStore(folder))
    assert quarantined == []
    for original, read in zip(rows, back, strict=True):
        for field in ("instruction", *KINDS):
            assert read[field] == original[field]
        for kind in KINDS:
            assert read[f"quality_{kind}"] == pytest.approx(original[f"quality_{kind}"])
            helpful = original.get(f"helpfulness_{kind}", original[f"quality_{kind}"])
            assert read[f"helpfulness_{kind}"] == helpful
    manifest = json.loads((folder / "_SUCCESS").read_text())
    assert (manifest["rows"], manifest["skipped"], manifest["source"]) == (8, 0, "test")


def test_the_files_are_the_ones_the_toolkit_reads(tmp_path):
    rows = quadruple_rows(5, low_direct_every=2)
    write_scar_data(rows, LocalStore(tmp_path / "ours"), "f")
    oracle = write_oracle(tmp_path / "oracle", rows)  # written from the toolkit's layout
    assert _files(tmp_path / "ours" / "f") == _files(oracle)
    help_direct = _files(oracle)["quality_measure/direct_help_score.json"]
    assert help_direct[scar_key(rows[0]["instruction"], rows[0]["direct"])] == 4


def test_a_released_folder_read_and_written_again_is_the_same_folder(tmp_path):
    rows = quadruple_rows(6)
    scores = {
        kind: {
            measure: {
                scar_key(r["instruction"], r[kind]): (i + len(kind) + len(measure)) % 10
                for i, r in enumerate(rows)
            }
            for measure in ("help", "correct")
        }
        for kind in KINDS
    }
    released = write_oracle(tmp_path / "released", rows, scores)  # help != correct
    data = load_training_data(str(released))
    assert data.format == SCAR_FOLDER and not data.quarantined
    export = export_scar_layout(data, str(tmp_path / "again"), domain="open", generator="gpt_35")
    assert export.folder == str(tmp_path / "again" / "ranker_data" / "open" / "gpt_35")
    assert _files(Path(export.folder)) == _files(released)


def test_rows_the_layout_cannot_hold_are_skipped_with_their_reason(tmp_path):
    rows = quadruple_rows(4)
    rows[1] = {**rows[1], "quality_referenced": None}  # unrated
    rows[2] = {**rows[2], "helpfulness_direct": 11}  # not a 0-9 score
    rows.append({**rows[0], "quality_human": 2})  # same human key, another score
    rows.append(dict(rows[3]))  # same keys, same scores: one key holds both
    export = write_scar_data(rows, LocalStore(tmp_path), "x")
    assert [(d.origin_line, d.reason) for d in export.skipped] == [
        (2, SCAR_EXPORT_UNRATED),
        (3, SCAR_EXPORT_UNRATED),
        (5, SCAR_EXPORT_SCORE_CONFLICT),
    ]
    assert "referenced" in export.skipped[0].detail and "human_help" in export.skipped[2].detail
    assert export.summary() == {
        "folder": str(tmp_path / "x"),
        "written": 3,
        "skipped": 3,
        "skipped_by_reason": {SCAR_EXPORT_SCORE_CONFLICT: 1, SCAR_EXPORT_UNRATED: 2},
    }
    back, quarantined = read_scar_data(LocalStore(tmp_path / "x"))
    assert quarantined == [] and [r["instruction"] for r in back] == [
        rows[0]["instruction"],
        rows[3]["instruction"],
        rows[3]["instruction"],
    ]


def test_folder_names_are_safe_and_default_to_the_rows_generator(tmp_path):
    assert (
        scar_folder("open", "local:SmolLM2 135M/bf16") == "ranker_data/open/local_SmolLM2_135M_bf16"
    )
    assert scar_folder("../..", "") == "ranker_data/unknown/unknown"
    rows = [{**row, "generator": "endpoint:gpt-3.5"} for row in quadruple_rows(2)]
    assert row_generator(rows) == "endpoint:gpt-3.5"
    assert row_generator(rows + [{**rows[0], "generator": "other"}]) == "mixed"
    assert row_generator(quadruple_rows(1)) == "unknown"
    export = export_scar_data(rows, str(tmp_path), domain="code")
    assert export.folder == str(tmp_path / "ranker_data" / "code" / "endpoint_gpt-3.5")


def test_preference_pairs_cannot_be_exported_as_quadruples(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": "q", "chosen": "a", "rejected": "b"}) + "\n")
    with pytest.raises(ValueError, match="preference pairs have no referenced"):
        export_scar_layout(load_training_data(str(pairs)), str(tmp_path / "out"))


def test_export_to_s3_reads_back(s3_client):
    client = s3_client
    client.create_bucket(Bucket="exports")
    rows = quadruple_rows(3)
    export = export_scar_data(rows, "s3://exports/data", generator="gen", s3_client=client)
    assert export.folder == "s3://exports/data/ranker_data/open/gen"
    data = load_training_data(export.folder, s3_client=client)
    assert data.format == SCAR_FOLDER
    assert [r["direct"] for r in data.rows] == [r["direct"] for r in rows]
