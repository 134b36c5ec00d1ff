"""FineTuneRecord: JSON round trip and run.json in the output folder."""

from __future__ import annotations

import json

from scar_dagster.finetune.record import (
    RECORD_FILE,
    FineTuneRecord,
    read_record,
    write_record,
)


def _record(tmp_path) -> FineTuneRecord:
    return FineTuneRecord(
        mode="local_sft",
        subset_version="v1",
        subset_path="/data/v1/alpaca.jsonl",
        base_model="/models/smol",
        output_dir=str(tmp_path),
        status="succeeded",
        metrics={"train_loss": [1.5, 1.2], "eval_loss_before": 1.4, "eval_loss_after": 1.1},
        started_at="2026-11-25T12:00:00.000+00:00",
        finished_at="2026-11-25T12:00:30.000+00:00",
        log_path=str(tmp_path / "train.log"),
    )


def test_json_round_trip(tmp_path):
    record = _record(tmp_path)
    assert FineTuneRecord.from_json(record.to_json()) == record
    assert record.succeeded


def test_unknown_keys_are_ignored(tmp_path):
    data = json.loads(_record(tmp_path).to_json())
    data["added_in_a_later_version"] = 1
    assert FineTuneRecord.from_json(json.dumps(data)) == _record(tmp_path)


def test_written_as_run_json_in_the_output_dir(tmp_path):
    record = _record(tmp_path)
    path = write_record(record)
    assert path == tmp_path / RECORD_FILE
    assert read_record(tmp_path) == record
    assert [p.name for p in tmp_path.iterdir()] == [RECORD_FILE]  # no temp file left
