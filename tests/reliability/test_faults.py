"""Faults: a write killed half-way is invisible to readers, and a rerun gives the same bytes.

Each kill is a real SIGKILL of a child process stopped at a known point (``killer.kill_at``):
between writing a temp file and renaming it into place, between two statements of an open
SQL transaction, or before an export's ``_SUCCESS`` marker.
"""

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from scar_dagster.selection.export import export_subset
from scar_dagster.storage import tables
from scar_dagster.storage.stores import STALE_TEMP_SECONDS, LocalStore, read_marker
from tests.killer import kill_at
from tests.pipeline import ingest_forum
from tests.planted import TOPICS, guide


def _rows(n: int, offset: int = 0) -> list[dict]:
    return [
        {"prompt": f"How do I {TOPICS[i % len(TOPICS)]} (case {i})?", "response": guide(TOPICS[0])}
        for i in range(offset, offset + n)
    ]


def _write_source(landing: Path, rows: list[dict]) -> None:
    path = landing / "forum" / "a.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


INGEST_IN_CHILD = """
from pathlib import Path
from tests.pipeline import ingest_forum
ingest_forum(Path({home!r}), Path({landing!r}))
"""


def test_killed_ingest_leaves_the_old_parquet_and_rerun_is_byte_identical(tmp_path):
    landing, home, clean = tmp_path / "landing", tmp_path / "home", tmp_path / "clean"
    _write_source(landing, _rows(5))
    ingest_forum(home, landing)
    parquet = home / "assets" / "raw_pairs" / "forum.parquet"
    old = parquet.read_bytes()

    _write_source(landing, _rows(400))  # a new file version, killed while it is written
    kill_at(INGEST_IN_CHILD.format(home=str(home), landing=str(landing)), "fsync:forum.parquet")

    assert parquet.read_bytes() == old  # readers still see the complete old version
    assert len(pd.read_parquet(parquet)) == 5
    leftovers = [p.name for p in parquet.parent.iterdir() if p != parquet]
    assert leftovers and all(name.startswith(".forum.parquet.") for name in leftovers)
    store = LocalStore(home)
    assert store.exists("assets/raw_pairs/forum.parquet")
    # The killed writer's temp file is cleaned up by the next write once it is stale; a live
    # writer's (young) temp file is left alone.
    hour_ago = time.time() - STALE_TEMP_SECONDS - 1
    for name in leftovers:
        os.utime(parquet.parent / name, (hour_ago, hour_ago))
    live = parquet.parent / ".forum.parquet.live.tmp"
    live.write_bytes(b"being written")

    ingest_forum(home, landing)
    assert sorted(p.name for p in parquet.parent.iterdir()) == [live.name, parquet.name]
    first = parquet.read_bytes()
    ingest_forum(home, landing)
    assert parquet.read_bytes() == first  # reruns are byte-identical
    ingest_forum(clean, landing)
    assert (clean / "assets" / "raw_pairs" / "forum.parquet").read_bytes() == first
    assert len(pd.read_parquet(parquet)) == 400


def _scores(n: int, score: float, ranker: str = "rv1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"p{i:05d}" for i in range(n)],
            "ranker_version": ranker,
            "source": "forum",
            "score": score,
            "n_words": 10,
        }
    )


UPSERT_IN_CHILD = """
import pandas as pd
from scar_dagster.storage import tables
engine = tables.create_engine_for({url!r})
frame = pd.DataFrame({{
    "id": [f"p{{i:05d}}" for i in range({n})],
    "ranker_version": "rv1", "source": "forum", "score": 2.0, "n_words": 10,
}})
{call}
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'scar.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = tables.create_engine_for(url)
    tables.metadata.drop_all(engine)
    tables.ensure_schema(engine)
    yield engine
    tables.metadata.drop_all(engine)
    engine.dispose()


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_killed_upsert_leaves_all_or_nothing_and_rerun_has_no_duplicates(engine):
    n = 1200
    tables.upsert_scores(engine, _scores(n // 2, score=1.0))  # the partition as it was
    url = engine.url.render_as_string(hide_password=False)
    call = "tables.upsert_scores(engine, frame)"
    kill_at(UPSERT_IN_CHILD.format(url=url, n=n, call=call), "sql:5")  # 4 chunks of 50 written

    after = tables.read_scores(engine, "rv1")
    assert len(after) == n // 2 and set(after["score"]) == {1.0}  # the old rows, untouched

    for _ in range(2):  # the rerun, twice: one row per key, all new
        tables.upsert_scores(engine, _scores(n, score=2.0))
        again = tables.read_scores(engine, "rv1")
        assert _count(engine, tables.scored_pairs) == len(again) == again["id"].nunique() == n
        assert set(again["score"]) == {2.0}


def test_killed_decision_write_keeps_the_previous_decisions(engine):
    old = pd.DataFrame(
        {
            "id": [f"p{i:05d}" for i in range(300)],
            "source": "forum",
            "selected": False,
            "reason": "select_below_cutoff",
        }
    )
    tables.write_decisions(engine, "v1", old, {"ranker_version": "rv1"})
    url = engine.url.render_as_string(hide_password=False)
    call = """
decisions = frame[["id", "source"]].assign(selected=True, reason="selected")
tables.write_decisions(engine, "v1", decisions, {"ranker_version": "rv1"})
"""
    kill_at(UPSERT_IN_CHILD.format(url=url, n=600, call=call), "sql:4")

    kept = tables.read_decisions(engine, "v1")
    assert len(kept) == 300 and set(kept["reason"]) == {"select_below_cutoff"}
    assert _count(engine, tables.selection_decisions) == 300


EXPORT_IN_CHILD = """
import pandas as pd
from scar_dagster.storage.stores import LocalStore
from scar_dagster.selection.export import export_subset
frame = pd.read_parquet({frame!r})
export_subset(frame, LocalStore({root!r}), "subsets", "v1")
"""


def _subset(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"p{i:05d}" for i in range(n)],
            "source": "forum",
            "instruction": [f"How do I do thing {i}?" for i in range(n)],
            "response": [f"Step {i}: do it." for i in range(n)],
            "score": [float(n - i) for i in range(n)],
            "rank": list(range(1, n + 1)),
        }
    )


def test_export_killed_before_its_marker_is_not_trusted_and_is_rewritten(tmp_path):
    frame_path = tmp_path / "subset.parquet"
    _subset(50).to_parquet(frame_path, index=False)
    root, clean = tmp_path / "root", tmp_path / "clean"
    script = EXPORT_IN_CHILD.format(frame=str(frame_path), root=str(root))
    kill_at(script, "fsync:_SUCCESS")

    store = LocalStore(root)
    assert read_marker(store, "subsets/v1") is None  # data files exist, but no complete marker
    assert store.exists("subsets/v1/alpaca.jsonl")

    result = export_subset(pd.read_parquet(frame_path), store, "subsets", "v1")
    assert result.written and read_marker(store, "subsets/v1") is not None
    export_subset(pd.read_parquet(frame_path), LocalStore(clean), "subsets", "v1")
    for name in ("alpaca.jsonl", "sharegpt.jsonl", "subset.parquet", "_SUCCESS"):
        assert (root / "subsets/v1" / name).read_bytes() == (
            clean / "subsets/v1" / name
        ).read_bytes()
