"""Offline evaluation: Wilson intervals, pairwise accuracy, subset consistency vs random, CLI."""

import json
import math
import sys

import numpy as np
import pandas as pd
import pytest

from scar_dagster.evaluation import (
    AccuracyResult,
    consistency_vs_random,
    evaluate_pairs,
    pairwise_accuracy_from_scores,
    read_pairs,
    select_ratio,
    wilson_interval,
)
from scar_dagster.evaluation.cli import main

METRICS = ("ttr", "mtld", "perplexity", "n_words")


def test_module_import_does_not_load_torch_or_dagster():
    import subprocess

    code = (
        "import sys, scar_dagster.evaluation; "
        "print('torch' in sys.modules, 'dagster' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_interval_on_known_counts(k, n, low, high):
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_edge_cases():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_planted_scores_give_known_accuracy_ties_and_nan_count_wrong():
    preferred = [1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 1.0, 7.0, math.nan, 9.0]
    other = [0.0, 1.0, 2.0, 3.0, 4.0, 1.0, 1.0, 6.0, 0.0, 8.0]  # one loss, one tie, one NaN
    result = pairwise_accuracy_from_scores(preferred, other)
    assert isinstance(result, AccuracyResult)
    assert result.n == 10
    assert result.accuracy == pytest.approx(0.7)
    assert (result.ci_low, result.ci_high) == pytest.approx(wilson_interval(7, 10))
    empty = pairwise_accuracy_from_scores([], [])
    assert empty.n == 0 and math.isnan(empty.accuracy) and (empty.ci_low, empty.ci_high) == (0, 1)
    with pytest.raises(ValueError):
        pairwise_accuracy_from_scores([1.0, 2.0], [1.0])


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


PAIRS = [
    {
        "instruction": f"How do I sort list {i}?",
        "preferred": f"## Sorting\n\n1. Call `sorted(items)` for list {i}.\n2. Done.",
        "other": "idk just sort it",
    }
    for i in range(6)
]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{not json", "invalid JSON"),
        ('["a", "b"]', "expected a JSON object"),
        ('{"instruction": "x", "preferred": "y"}', "missing field(s) ['other']"),
        ('{"instruction": "x", "preferred": "y", "other": 3}', "must be strings"),
    ],
)
def test_malformed_jsonl_raises_with_line_number(tmp_path, line, needle):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(PAIRS[0]) + "\n\n" + line + "\n")
    with pytest.raises(ValueError, match="line 3") as info:
        read_pairs(path)
    assert needle in str(info.value)
    with pytest.raises(ValueError, match="line 3"):
        evaluate_pairs(path, model=None, tokenizer=None)  # validated before any scoring


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    from scar_dagster.ranker.model.architecture import RankerConfig, build_tiny_ranker
    from scar_dagster.ranker.model.checkpoint import load_checkpoint, save_checkpoint
    from scar_dagster.ranker.model.train import seed_everything

    seed_everything(0)
    config = RankerConfig(hidden_dim=32, max_length=64)
    model, _ = build_tiny_ranker(config)
    folder = tmp_path_factory.mktemp("ranker") / "ckpt"
    save_checkpoint(model, config, folder, training_fingerprint="test-evaluation")
    loaded, tokenizer, _ = load_checkpoint(folder)
    return folder, loaded, tokenizer


def test_evaluate_pairs_with_tiny_random_ranker(tmp_path, tiny_checkpoint):
    _, model, tokenizer = tiny_checkpoint
    path = _write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    result = evaluate_pairs(path, model, tokenizer, batch_size=4)
    assert result.n == len(PAIRS)
    assert 0.0 <= result.accuracy <= 1.0
    assert 0.0 <= result.ci_low <= result.accuracy <= result.ci_high <= 1.0
    assert evaluate_pairs(path, model, tokenizer, batch_size=32) == result  # batch-independent
    empty = evaluate_pairs(_write_jsonl(tmp_path / "empty.jsonl", []), model, tokenizer)
    assert empty.n == 0


def test_cli_pairs_prints_table(tmp_path, tiny_checkpoint, capsys):
    folder, _, _ = tiny_checkpoint
    path = _write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    assert main(["pairs", str(path), "--ranker", str(folder)]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "accuracy" in line)
    assert header.split() == ["n", "accuracy", "ci95_low", "ci95_high"]
    assert out.splitlines()[-1].split()[0] == str(len(PAIRS))


def test_cli_reports_bad_input_without_traceback(tmp_path, tiny_checkpoint, capsys):
    folder, _, _ = tiny_checkpoint
    path = tmp_path / "bad.jsonl"
    path.write_text('{"instruction": "x"}\n')
    assert main(["pairs", str(path), "--ranker", str(folder)]) == 1
    assert "line 1" in capsys.readouterr().err


def planted_pool(n: int = 80, subset: int = 20) -> tuple[pd.DataFrame, list[str]]:
    """First ``subset`` rows sit tightly around the centre (and score highest); the rest spread."""
    rng = np.random.default_rng(7)
    ids = [f"id{i:03d}" for i in range(n)]
    tight = np.arange(n) < subset
    spread = np.where(tight, 0.05, 1.0)
    frame = pd.DataFrame(
        {
            "id": ids,
            "score": np.where(tight, 10.0, 0.0) + rng.normal(0, 0.1, n),
            "ttr": 0.6 + 0.1 * spread * rng.normal(size=n),
            "mtld": 70 + 20 * spread * rng.normal(size=n),
            "perplexity": 20 + 8 * spread * rng.normal(size=n),
            "n_words": 150 + 60 * spread * rng.normal(size=n),
        }
    )
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True), ids[:subset]


def test_consistency_vs_random_on_planted_pool_is_below_one_and_deterministic():
    pool, subset = planted_pool()
    first = consistency_vs_random(pool, subset)
    assert list(first.index) == list(METRICS)
    assert list(first.columns) == ["subset_std", "random_std_mean", "random_std_sd", "ratio"]
    assert (first["ratio"] < 1).all(), first
    assert first["ratio"].to_numpy() == pytest.approx(
        (first["subset_std"] / first["random_std_mean"]).to_numpy()
    )
    assert (first["random_std_sd"] > 0).all()
    again = consistency_vs_random(pool.iloc[::-1], list(reversed(subset)))
    pd.testing.assert_frame_equal(first, again)  # deterministic, row-order independent
    other = consistency_vs_random(pool, subset, seeds=(10, 11))
    assert not np.allclose(other["random_std_mean"], first["random_std_mean"])


def test_consistency_vs_random_rejects_unknown_ids():
    pool, subset = planted_pool()
    with pytest.raises(ValueError, match="not in the pool"):
        consistency_vs_random(pool, [*subset, "nope"])


def test_select_ratio_takes_top_by_score_then_id():
    pool = pd.DataFrame({"id": ["d", "c", "b", "a", "e"], "score": [1.0, 3.0, 3.0, 2.0, np.nan]})
    assert select_ratio(pool, 0.4) == ["b", "c"]
    assert select_ratio(pool, 1.0) == ["b", "c", "a", "d", "e"]
    assert select_ratio(pool, 0.01) == ["b"]
    with pytest.raises(ValueError):
        select_ratio(pool, 0.0)


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_cli_consistency_prints_table(tmp_path, capsys, suffix):
    pool, subset = planted_pool()
    path = tmp_path / f"pool.{suffix}"
    if suffix == "parquet":
        pool.to_parquet(path)
    else:
        pool.to_csv(path, index=False)
    assert main(["consistency", str(path), "--ratio", "0.25"]) == 0
    out = capsys.readouterr().out
    assert "20 of 80 rows" in out
    lines = out.splitlines()
    assert lines[1].split() == ["subset_std", "random_std_mean", "random_std_sd", "ratio"]
    printed = {line.split()[0]: float(line.split()[-1]) for line in lines[3:]}
    assert set(printed) == set(METRICS)
    assert all(ratio < 1 for ratio in printed.values())
    expected = consistency_vs_random(pool, subset)["ratio"]
    assert printed == pytest.approx(expected.to_dict(), abs=1e-4)


def test_heldout_pairs_come_from_the_test_split_and_respect_quality():
    from scar_dagster.evaluation import heldout_pairs
    from scar_dagster.ranker.data.quadruple import Quadruple, split_quadruples

    quads = [
        Quadruple(
            instruction=f"question {i}",
            human=f"human {i}",
            referenced=f"referenced {i}",
            direct=f"direct {i}",
            quality_human=2.0 if i % 2 else 8.0,  # odd: human too poor to teach or test
            quality_referenced=8.0,
            quality_direct=9.0,
        )
        for i in range(40)
    ]
    rows = heldout_pairs(quads, seed=7)
    test = split_quadruples(quads, seed=7).test
    assert {r["instruction"] for r in rows} == {q.instruction for q in test}
    expected = sum(1 if int(q.instruction.split()[1]) % 2 else 3 for q in test)
    assert len(rows) == expected
    for row in rows:
        better, worse = row["pair_type"].split(">")
        number = row["instruction"].split()[1]
        assert row["preferred"] == f"{better} {number}" and row["other"] == f"{worse} {number}"
    train = {q.instruction for q in split_quadruples(quads, seed=7).train}
    assert not train & {r["instruction"] for r in rows}
    assert rows != heldout_pairs(quads, seed=8)


def test_read_pairs_accepts_preference_spellings_and_heldout_pairs_of_pair_records(tmp_path):
    from scar_dagster.ranker.data.preference import PreferencePair

    path = tmp_path / "p.json"
    path.write_text(
        json.dumps(
            [
                {"prompt": "Q", "chosen": "good", "rejected": "bad"},
                {"instruction": "R", "preferred": "a", "other": "b"},
            ]
        )
    )
    assert read_pairs(path) == [
        {"instruction": "Q", "preferred": "good", "other": "bad"},
        {"instruction": "R", "preferred": "a", "other": "b"},
    ]
    path.write_text(json.dumps([{"prompt": "Q", "chosen": "good"}]))
    with pytest.raises(ValueError, match="item 1: field 'rejected' is missing"):
        read_pairs(path)
    from scar_dagster.evaluation import heldout_pairs

    records = [PreferencePair(f"q{i}", f"good {i}", f"bad {i}") for i in range(20)]
    rows = heldout_pairs(records, seed=42)
    assert len(rows) == 2 and {r["pair_type"] for r in rows} == {"chosen>rejected"}
