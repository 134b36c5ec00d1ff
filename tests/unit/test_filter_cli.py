"""``scar-dagster filter`` and ``dedup`` on a planted file, and ``filter --compat reference``
beside the SCAR toolkit itself (``scar-tool``) with the same reference-layout checkpoint."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scar_dagster import schema
from scar_dagster.cli import main
from tests.filter_inputs import planted_rows, write_rows
from tests.scar_layout import write_scar_checkpoint, write_tiny_encoder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, one_torch_thread) -> Path:
    folder = tmp_path_factory.mktemp("ranker")
    return write_scar_checkpoint(folder / "scar", write_tiny_encoder(folder / "encoder"))


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    return write_rows(tmp_path_factory.mktemp("data") / "pairs.json", planted_rows())


def _run(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _kept(summary: dict) -> dict[str, int]:
    return {step["step"]: step.get("kept") for step in summary["steps"]}


def test_filter_counts_each_step_and_writes_the_best_first(tmp_path, capsys, checkpoint, planted):
    out = tmp_path / "kept.jsonl"
    summary = _run(
        capsys, "filter", "--model", str(checkpoint), "--input", str(planted),
        "--output", str(out), "--topk", "5", "--near-method", "exact",
    )  # fmt: skip
    # 27 rows: 2 exact copies, 2 Russian answers, 2 near copies of "Describe the plan"
    assert summary["input_rows"] == 27
    assert _kept(summary) == {"exact dedup": 25, "English filter": 23, "near dedup": 21}
    rows = _lines(out)
    assert len(rows) == summary["selected"] == 5
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert set(rows[0]) == {"id", "instruction", "response", "score", "rank", "origin_line"}


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt"])
def test_filter_writes_alpaca_and_sharegpt_records(tmp_path, capsys, checkpoint, planted, fmt):
    out = tmp_path / f"{fmt}.jsonl"
    _run(
        capsys, "filter", "--model", str(checkpoint), "--input", str(planted),
        "--output", str(out), "--ratio", "0.25", "--format", fmt,
    )  # fmt: skip
    rows = _lines(out)
    assert len(rows) == 5  # floor(0.25 * 21)
    keys = {"alpaca": {"instruction", "input", "output"}, "sharegpt": {"id", "conversations"}}
    assert all(set(r) == keys[fmt] for r in rows)


def test_dedup_keeps_rows_in_input_order_and_counts_drops(tmp_path, capsys, planted):
    out = tmp_path / "dedup.jsonl"
    summary = _run(
        capsys, "dedup", "--input", str(planted), "--output", str(out),
        "--threshold", "0.5", "--near-method", "exact",
    )  # fmt: skip
    steps = {s["step"]: s["dropped"] for s in summary["steps"]}
    # no English filter here: the two Russian answers are near duplicates of each other
    assert steps == {"exact dedup": {schema.DEDUP_EXACT: 2}, "near dedup": {schema.DEDUP_NEAR: 3}}
    rows = _lines(out)
    assert len(rows) == summary["kept"] == 22
    lines = [r["origin_line"] for r in rows]
    assert lines == sorted(lines) and 3 in lines and 19 not in lines  # record 19 copies 3


def test_compat_reads_raw_texts_and_applies_the_toolkits_rules(tmp_path, capsys, planted):
    raw, ours = tmp_path / "raw.jsonl", tmp_path / "ours.jsonl"
    _run(capsys, "dedup", "--input", str(planted), "--output", str(raw), "--compat", "reference")
    _run(capsys, "dedup", "--input", str(planted), "--output", str(ours))
    table = next(r for r in _lines(raw) if r["instruction"].startswith("Format"))
    assert table["instruction"] == "Format\tthe table"  # no input appended, the tab kept
    assert "\n\n\n\n" in table["response"]
    normalised = next(r for r in _lines(ours) if r["instruction"].startswith("Format"))
    assert normalised["instruction"] == "Format    the table\n\nwith two columns"


TOOLKIT = importlib.util.find_spec("style_ranker") is not None


@pytest.mark.skipif(not TOOLKIT, reason="scar-tool (the SCAR toolkit) is not installed")
def test_compat_reference_selects_what_the_toolkit_selects(tmp_path, capsys, checkpoint, planted):
    toolkit_out = tmp_path / "toolkit.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "tests.run_toolkit", str(planted), str(checkpoint), "8"]
    subprocess.run([*command, str(toolkit_out)], cwd=ROOT, env=env, check=True, timeout=600,
                   capture_output=True)  # fmt: skip
    toolkit = json.loads(toolkit_out.read_text(encoding="utf-8"))
    out = tmp_path / "ours.jsonl"
    summary = _run(
        capsys, "filter", "--model", str(checkpoint), "--input", str(planted),
        "--output", str(out), "--topk", "8", "--compat", "reference",
    )  # fmt: skip
    kept = _kept(summary)
    assert {k: kept[k] for k in ("exact dedup", "English filter", "near dedup")} == {
        k: toolkit["counts"][k] for k in ("exact dedup", "English filter", "near dedup")
    }
    assert toolkit["counts"]["English filter"] == 22  # the code answer fails its rule too
    ours = [(r["instruction"], r["response"]) for r in _lines(out)]
    assert ours == [(i, a) for i, a, _ in toolkit["selected"]]
    for row, (_, _, score) in zip(_lines(out), toolkit["selected"], strict=True):
        assert row["score"] == pytest.approx(score, abs=1e-5)
