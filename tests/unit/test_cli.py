"""``scar-dagster`` end to end on tiny models: data, train, rank, evaluate, --help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scar_dagster.cli import build_parser, main
from tests.planted import TOPICS, forum, guide, quadruple_rows
from tests.scar_layout import write_scar_checkpoint, write_scar_data, write_tiny_encoder


@pytest.fixture(scope="module")
def encoder(tmp_path_factory, one_torch_thread):
    return write_tiny_encoder(tmp_path_factory.mktemp("enc") / "bert")


def _pairs_file(path, n=20):
    rows = [
        {"prompt": ask.format(t), "chosen": guide(t), "rejected": forum(t, i)}
        for ask in ("How do I {}?", "What is the best way to {}?")
        for i, t in enumerate(TOPICS[:n])
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _out_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["rank"],
        ["train"],
        ["data"],
        ["data", "summary"],
        ["data", "export"],
        ["evaluate"],
        ["evaluate", "pairs"],
        ["evaluate", "consistency"],
    ],
)
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    assert "usage: scar-dagster" in capsys.readouterr().out


def test_module_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "scar_dagster.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    usage = out.stdout.split("\n\n")[0]  # argparse wraps a long usage line
    assert all(name in usage for name in ("rank", "train", "data", "evaluate", "inspect"))


def test_data_summarises_each_format(tmp_path, capsys):
    folder = write_scar_data(tmp_path / "scar", quadruple_rows(6, low_direct_every=3))
    assert main(["data", str(folder)]) == 0
    summary = _out_json(capsys)
    assert (summary["format"], summary["quadruples"], summary["quarantined"]) == (
        "scar_folder",
        6,
        0,
    )
    assert summary["allowed_pairs"] == {
        "direct>referenced": 4,
        "referenced>human": 6,
        "direct>human": 4,
    }
    assert main(["data", str(_pairs_file(tmp_path / "p.jsonl", 3))]) == 0
    assert _out_json(capsys)["pairs"] == 6
    assert main(["data", str(tmp_path / "missing")]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_train_rank_evaluate_end_to_end(tmp_path, encoder, capsys):
    pairs = _pairs_file(tmp_path / "pairs.jsonl")
    out = tmp_path / "ranker"
    code = main(
        [
            "train",
            "--data",
            str(pairs),
            "--out",
            str(out),
            "--encoder",
            str(encoder),
            "--epochs",
            "3",
            "--batch-size",
            "4",
            "--lr",
            "2e-3",
            "--hidden-dim",
            "32",
            "--max-length",
            "64",
            "--seed",
            "3",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["val_accuracy"] >= 0.9 and "in-distribution" in result["note"]
    assert "training: 3/3 epochs" in captured.err and "ETA" in captured.err
    pool = tmp_path / "pool.jsonl"
    rows = [
        {"instruction": f"How do I {t}?", "output": forum(t, i)} for i, t in enumerate(TOPICS[:6])
    ]
    rows += [{"prompt": f"How do I {t}?", "response": guide(t)} for t in TOPICS[6:9]]
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    ranked = tmp_path / "ranked.jsonl"
    argv = [
        "rank",
        "--model",
        str(out),
        "--input",
        str(pool),
        "--topk",
        "3",
        "--output",
        str(ranked),
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "1 rows not read" in err and "scoring: 9/9 pairs" in err
    kept = [json.loads(line) for line in ranked.read_text().splitlines()]
    assert [r["rank"] for r in kept] == [1, 2, 3]
    assert all("## Steps" in r["response"] for r in kept)
    assert kept[0]["score"] >= kept[1]["score"] >= kept[2]["score"]
    assert main(["evaluate", "pairs", str(pairs), "--model", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[0] == "40"


def test_rank_accepts_a_published_scar_ranker(tmp_path, encoder, capsys):
    folder = write_scar_checkpoint(tmp_path / "scar-ranker", encoder)
    pool = tmp_path / "pool.json"
    pool.write_text(json.dumps([{"instruction": "Hi", "output": f"answer {i}"} for i in range(5)]))
    ranked = tmp_path / "r.jsonl"
    argv = [
        "rank",
        "--model",
        str(folder),
        "--input",
        str(pool),
        "--ratio",
        "0.4",
        "--output",
        str(ranked),
    ]
    assert main(argv) == 0
    assert len(ranked.read_text().splitlines()) == 2
    assert "(scar)" in capsys.readouterr().err


def test_parser_needs_exactly_one_selection():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["rank", "--model", "m", "--input", "i", "--output", "o"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(
            ["rank", "--model", "m", "--input", "i", "--output", "o", "--topk", "1", "--ratio", "1"]
        )


def test_data_reads_a_scar_folder_on_s3(s3_endpoint, tmp_path, monkeypatch, capsys):
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    client = boto3.client("s3")
    client.create_bucket(Bucket="released")
    folder = write_scar_data(tmp_path / "scar", quadruple_rows(4))
    for path in folder.rglob("*.json"):
        key = f"ranker_data/open/gpt35/{path.relative_to(folder)}"
        client.put_object(Bucket="released", Key=key, Body=path.read_bytes())
    assert main(["data", "s3://released/ranker_data/open/gpt35"]) == 0
    assert _out_json(capsys)["quadruples"] == 4


def _quadruple_file(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_data_export_writes_the_toolkits_layout_and_back(tmp_path, capsys):
    rows = [{**r, "generator": "endpoint:gpt-3.5"} for r in quadruple_rows(6, low_direct_every=3)]
    source = _quadruple_file(tmp_path / "q.jsonl", rows)
    assert main(["data", str(source)]) == 0
    ours = _out_json(capsys)
    assert main(["data", "export", "--format", "scar", str(source), str(tmp_path / "data")]) == 0
    exported = _out_json(capsys)
    folder = tmp_path / "data" / "ranker_data" / "open" / "endpoint_gpt-3.5"
    assert (exported["folder"], exported["written"], exported["skipped"]) == (str(folder), 6, 0)
    assert exported["read"] == {"format": "quadruples", "rows": 6, "quarantined": {}}
    assert main(["data", "summary", str(folder)]) == 0
    theirs = _out_json(capsys)
    assert theirs["format"] == "scar_folder"
    assert theirs["allowed_pairs"] == ours["allowed_pairs"]
    back = tmp_path / "back.jsonl"
    assert main(["data", "export", "--format", "quadruples", str(folder), str(back)]) == 0
    assert _out_json(capsys)["written"] == 6
    assert main(["data", str(back)]) == 0
    assert _out_json(capsys)["allowed_pairs"] == ours["allowed_pairs"]
    assert main(["data", "export", "--format", "quadruples", str(folder), "s3://b/q.jsonl"]) == 1
    assert "writes a local JSONL file" in capsys.readouterr().err
    argv = ["data", "export", "--format", "scar", str(_pairs_file(tmp_path / "p.jsonl", 2))]
    assert main([*argv, str(tmp_path / "x")]) == 1
    assert "preference pairs have no referenced" in capsys.readouterr().err


def test_constraint_options_change_the_allowed_pairs(tmp_path, capsys):
    source = _quadruple_file(tmp_path / "q.jsonl", quadruple_rows(6, low_direct_every=3))
    assert main(["data", str(source)]) == 0
    assert _out_json(capsys)["allowed_pairs_total"] == 14  # two low directs drop 2 pairs each
    assert main(["data", str(source), "--constraint-mode", "none"]) == 0
    summary = _out_json(capsys)
    assert summary["allowed_pairs_total"] == 18
    assert summary["quality_constraint"] == {
        "mode": "none",
        "min_quality": 5.0,
        "max_quality": 10.0,
    }
    assert main(["data", str(source), "--constraint-mode", "abs", "--constraint-max", "8.5"]) == 0
    assert _out_json(capsys)["allowed_pairs_total"] == 6  # direct's 9 is above 8.5: only r>h
    with pytest.raises(SystemExit):
        main(["data", str(source), "--constraint-mode", "strict"])


def test_train_needs_trust_remote_code_for_an_encoder_with_its_own_code(tmp_path, capsys):
    import transformers.dynamic_module_utils as dynamic

    from tests.unit.ranker.remote_code_encoder import write_remote_code_encoder

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dynamic, "HF_MODULES_CACHE", str(tmp_path / "hf_modules"))
        encoder = write_remote_code_encoder(tmp_path / "gte-like")
        data = _quadruple_file(tmp_path / "q.jsonl", quadruple_rows(10))
        argv = ["train", "--data", str(data), "--out", str(tmp_path / "r"), "--encoder"]
        argv += [str(encoder), "--epochs", "1", "--batch-size", "4", "--hidden-dim", "16"]
        argv += ["--max-length", "48", "--constraint-mode", "abs_pos"]
        assert main(argv) == 1
        assert "trust_remote_code" in capsys.readouterr().err
        assert main([*argv, "--trust-remote-code"]) == 0
        assert _out_json(capsys)["data"]["quality_constraint"]["mode"] == "abs_pos"
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["remote_code_encoder"] == {"source": str(encoder)}
