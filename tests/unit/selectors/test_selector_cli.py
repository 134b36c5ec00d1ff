"""``scar-dagster rank --selector`` and ``scar-dagster compare`` on small files."""

import json

from scar_dagster.cli import main
from tests.pipeline import write_jsonl

ROWS = [
    {"instruction": f"Question {i}?", "output": " ".join(["word"] * (3 + 4 * i)) + f" end {i}."}
    for i in range(12)
]


def test_rank_with_the_length_selector_keeps_the_longest(tmp_path):
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    out = tmp_path / "kept.jsonl"
    assert (
        main(
            [
                "rank",
                "--selector",
                "length",
                "--input",
                str(source),
                "--output",
                str(out),
                "--topk",
                "3",
            ]
        )
        == 0
    )
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["response"].split()[-1] for row in kept] == ["11.", "10.", "9."]
    assert [row["rank"] for row in kept] == [1, 2, 3]


def test_rank_with_scar_needs_a_model(tmp_path, capsys):
    source = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    code = main(["rank", "--input", str(source), "--output", str(tmp_path / "o"), "--topk", "1"])
    assert code == 1 and "needs --model" in capsys.readouterr().err


def test_compare_prints_one_row_per_selector_and_keeps_the_table(tmp_path, capsys):
    source = write_jsonl(tmp_path / "pool" / "a.jsonl", ROWS)
    out = tmp_path / "out"
    args = [
        "compare",
        str(source.parent),
        "--selectors",
        "length,random",
        "--ratio",
        "0.5",
        "--no-perplexity",
        "--output",
        str(out),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| length" in printed and "| random" in printed and "Jaccard" in printed
    table = json.loads((out / "comparison.json").read_text())
    assert [row["selector"] for row in table] == ["length", "random"]
    assert all(row["rows_selected"] == 6 for row in table)
    assert (out / "comparison.png").read_bytes().startswith(b"\x89PNG")
