"""Every long step reports progress: its final line names the step and rows done / total."""

import pandas as pd

from scar_dagster.ingest.pipeline import SourceReader
from scar_dagster.selection import SelectionParams
from scar_dagster.storage.stores import LocalStore
from tests.log_sink import Lines
from tests.selection_pool import decide_frame


def _final(lines: Lines, step: str) -> str:
    found = [m for m in lines.messages if m.startswith(f"{step}: ") and "done in" in m]
    assert len(found) == 1, lines.messages
    return found[0]


def test_selection_reports_the_language_filter_and_near_dedup():
    rows = [
        (f"p{i}", "web", float(i), f"Explain topic {i}.", f"Topic {i} is " * 5) for i in range(6)
    ]
    candidates = pd.DataFrame(rows, columns=["id", "source", "score", "instruction", "response"])
    lines = Lines()
    decide_frame(candidates, SelectionParams(ratio=0.5), log=lines)
    step = "selection: exact dedup and language filter"  # one pass over the texts
    assert _final(lines, step).startswith(f"{step}: 6/6 pairs (100.0%)")
    assert "6/6 texts" in _final(lines, "selection: near-dedup signatures")


def test_ingest_reports_input_bytes(tmp_path):
    data = b'{"prompt": "q", "response": "a"}\n' * 3
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.jsonl").write_bytes(data)
    lines = Lines()
    reader = SourceReader(LocalStore(tmp_path), "src", log=lines)
    assert sum(len(pairs) for pairs, _ in reader.chunks()) == 1  # three copies of one pair
    assert f"{len(data)}/{len(data)} input bytes (100.0%)" in _final(lines, "ingest src")
