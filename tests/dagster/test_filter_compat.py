"""``scar-dagster filter --compat reference`` and ``selected_subset`` with ``compat:
reference`` select the same pairs from the same input with the same ranker."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from dagster import Output, build_asset_context

from assets.selection import selected_subset
from definitions import build_resources
from scar_dagster.cli import main
from scar_dagster.dagster.run_config import SelectionConfig
from scar_dagster.filter_cli import scores_with_progress
from scar_dagster.ingest.pipeline import SourceReader
from scar_dagster.ranker.model.published import load_ranker
from scar_dagster.schema import STYLE_METRICS
from scar_dagster.storage import tables
from scar_dagster.storage.parquet_parts import ParquetPart
from scar_dagster.storage.stores import LocalStore
from tests.filter_inputs import planted_rows, write_rows
from tests.scar_layout import write_scar_checkpoint, write_tiny_encoder

TOP_K = 8
RANKER = "scar-tiny"


class _Scoring:
    """The options ``scores_with_progress`` reads, as ``scar-dagster filter`` sets them."""

    batch_size, max_length, num_threads, device, dtype = 32, None, None, "cpu", "float32"


def _ingested(landing) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``raw_pairs`` and ``raw_quarantine`` of the source as the ingest asset reads it."""
    reader = SourceReader(LocalStore(landing), "pairs", chunk_rows=1000)
    kept, dropped = zip(*reader.chunks(), strict=True)
    return pd.concat(kept, ignore_index=True), pd.concat(dropped, ignore_index=True)


@pytest.mark.usefixtures("one_torch_thread")
def test_cli_and_selected_subset_select_the_same_pairs(tmp_path, capsys):
    # texts already in the form the ingest stores (no tab, no blank-line run, no input), so
    # the asset's raw_pairs hold exactly what the toolkit reads raw
    rows = [r for r in planted_rows() if "\t" not in r["instruction"]]
    source = write_rows(tmp_path / "landing" / "pairs" / "pairs.json", rows)
    ranker = write_scar_checkpoint(tmp_path / "scar", write_tiny_encoder(tmp_path / "encoder"))

    out = tmp_path / "cli.jsonl"
    argv = ["filter", "--model", str(ranker), "--input", str(source), "--output", str(out)]
    assert main([*argv, "--topk", str(TOP_K), "--compat", "reference"]) == 0
    capsys.readouterr()
    cli_ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]

    pairs, quarantine = _ingested(tmp_path / "landing")
    database = f"sqlite:///{tmp_path / 'scar.db'}"
    resources = build_resources(str(tmp_path / "home"), str(tmp_path / "landing"), database)
    engine = resources["database"].get_engine()
    tables.ensure_schema(engine)
    model, tokenizer, _ = load_ranker(ranker)
    instructions, responses = pairs["instruction"].tolist(), pairs["response"].tolist()
    scores = scores_with_progress(model, tokenizer, instructions, responses, _Scoring())
    tables.upsert_scores(
        engine,
        pd.DataFrame(
            {"id": pairs["id"], "ranker_version": RANKER, "source": "pairs", "score": scores}
        ),
    )
    (tmp_path / "parts").mkdir()
    features = pd.DataFrame(
        {"id": pairs["id"], "degenerate_reason": None, **dict.fromkeys(STYLE_METRICS, 1.0)}
    )
    parts = LocalStore(tmp_path / "parts")
    pairs.to_parquet(tmp_path / "parts" / "pairs.parquet", index=False)
    features.to_parquet(tmp_path / "parts" / "features.parquet", index=False)
    produced = selected_subset(
        context=build_asset_context(),
        config=SelectionConfig(top_k=TOP_K, compat="reference", perplexity="off", selector="scar"),
        raw_pairs={"pairs": ParquetPart(parts, "pairs.parquet")},
        raw_quarantine={"pairs": quarantine},
        style_features={"pairs": ParquetPart(parts, "features.parquet")},
        style_ranker={"champion_version": RANKER},
        database=resources["database"],
        storage=resources["storage"],
        instruct_lm=resources["instruct_lm"],  # not loaded: perplexity off (planted features)
        encoder=resources["encoder"],  # not loaded: the scar selector reads no embeddings
    )
    output = next(o for o in ([produced] if isinstance(produced, Output) else produced)
                  if isinstance(o, Output))  # fmt: skip
    version = output.metadata["subset_version"].value
    chosen = tables.read_decisions(engine, version, selected_only=True)
    assert chosen["id"].tolist() == cli_ids
    assert len(cli_ids) == TOP_K
    assert np.isfinite(scores).all()
