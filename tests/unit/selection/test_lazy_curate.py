"""curate on lazy Parquet parts: same subset as on frames, texts read only a chunk at a time."""

from __future__ import annotations

import math
import random

import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.selection import SelectionParams, SelectionRun, curate
from scar_dagster.selection.filters import minhash
from scar_dagster.selection.filters.minhash import near_duplicates_in_order
from scar_dagster.selection.filters.near_dedup import DedupTexts
from scar_dagster.selection.inputs import FEATURE_COLUMNS, spool_texts
from scar_dagster.selection.texts import ChunkedTexts, frame_lookup
from scar_dagster.storage import tables
from scar_dagster.storage.parquet_parts import ParquetPart
from scar_dagster.storage.stores import LocalStore
from tests.selection_pool import RANKER, planted_pairs, write_parts

TEXTS = {"instruction", "response"}
CHUNK = 9


@pytest.fixture(scope="module")
def lazy_pool(tmp_path_factory):
    """Planted pairs as per-source Parquet parts (row groups of 10), features likewise."""
    root = tmp_path_factory.mktemp("lazy")
    pairs, features, scores = planted_pairs()
    pairs = pd.concat([group for _, group in pairs.groupby("source")], ignore_index=True)
    pair_parts, feature_parts = write_parts(root / "assets", pairs, features)
    engine = tables.create_engine_for(f"sqlite:///{root / 'scores.db'}")
    tables.ensure_schema(engine)
    tables.upsert_scores(engine, scores.iloc[1:].assign(ranker_version=RANKER))
    yield pairs, features, pair_parts, feature_parts, engine
    engine.dispose()


def _run(pairs, features, engine, path, mode, params, texts=None):
    return curate(
        pairs=pairs,
        quarantine=pd.DataFrame(columns=list(schema.QUARANTINE_COLUMNS)),
        features=features,
        ranker_version=RANKER,
        params=params,
        engine=engine,
        store=LocalStore(path),
        prefix="subsets",
        folder=path / "work",
        run=SelectionRun(mode=mode, chunk_rows=CHUNK),
        texts=texts,
    )


@pytest.mark.parametrize("dedup_keep", ["score", "first"])
def test_lazy_parts_give_the_subset_of_frames_on_both_paths(lazy_pool, tmp_path, dedup_keep):
    pairs, features, pair_parts, feature_parts, engine = lazy_pool
    params = SelectionParams(ratio=0.3, max_per_source={"a": 5}, dedup_keep=dedup_keep)
    frames = _run(pairs, features, engine, tmp_path / "frames", "memory", params)
    decided = tables.read_decisions(engine, frames.version)
    for mode in ("memory", "streaming"):
        lazy = _run(pair_parts, feature_parts, engine, tmp_path / mode, mode, params)
        assert lazy.path == mode and lazy.version == frames.version
        pd.testing.assert_frame_equal(tables.read_decisions(engine, lazy.version), decided)
        pd.testing.assert_frame_equal(lazy.subset, frames.subset)
        assert lazy.pool_stats == frames.pool_stats
        assert lazy.reason_counts == frames.reason_counts


def test_streaming_path_reads_texts_only_chunk_by_chunk(lazy_pool, tmp_path, monkeypatch):
    """No whole read of the texts: parts give key and feature columns only, and every text
    lookup asks for at most one chunk of walked ids; near-dedup confirmations are batched."""
    _, _, pair_parts, feature_parts, engine = lazy_pool
    reads: list[tuple[str, tuple[str, ...] | None]] = []
    original_read = ParquetPart.read

    def read(self, columns=None):
        reads.append((self.key, None if columns is None else tuple(columns)))
        return original_read(self, columns)

    monkeypatch.setattr(ParquetPart, "read", read)
    monkeypatch.setattr(ParquetPart, "take", lambda *a, **k: pytest.fail("take per id"))
    spool = spool_texts(pair_parts)
    calls: list[list[str]] = []

    def lookup(ids):
        calls.append(list(ids))
        return spool(ids)

    params = SelectionParams(ratio=0.3, near_dedup=True)
    try:
        result = _run(pair_parts, feature_parts, engine, tmp_path, "streaming", params, lookup)
    finally:
        spool.close()
    assert result.path == "streaming"
    for key, columns in reads:
        assert columns is not None and TEXTS.isdisjoint(columns), (key, columns)
        if key.startswith("style_features"):
            assert columns == FEATURE_COLUMNS
    decisions = tables.read_decisions(engine, result.version)
    scored = set(decisions.loc[decisions["score"].notna(), "id"])
    # the last calls: the selected rows' texts, a chunk at a time in rank order, for the export
    n_export = max(1, math.ceil(result.subset_rows / CHUNK))
    walk_calls, export_calls = calls[:-n_export], calls[-n_export:]
    assert all(len(ids) <= CHUNK and set(ids) <= scored for ids in walk_calls)
    assert all(len(ids) <= CHUNK for ids in export_calls) and n_export > 1
    assert [i for ids in export_calls for i in ids] == result.subset["id"].tolist()
    n_pool = len(scored)
    # exact pass + signature pass a chunk each, plus a few batched confirmations and export
    bound = 2 * math.ceil(n_pool / CHUNK) + 3 * math.ceil(n_pool / CHUNK) + n_export
    assert len(calls) <= bound


def test_asset_takes_pairs_and_features_lazily():
    from assets.selection import selected_subset
    from scar_dagster.dagster.partitions import LAZY

    ins = selected_subset.op.ins
    assert ins["raw_pairs"].metadata.get(LAZY) and ins["style_features"].metadata.get(LAZY)
    assert not ins["raw_quarantine"].metadata.get(LAZY)


def _near_pool(n_groups: int = 40, copies: int = 6, seed: int = 3) -> list[str]:
    """Groups of near-identical texts (one word edited per copy): many LSH candidates."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n_groups):
        words = [f"w{rng.randrange(5000)}" for _ in range(30)]
        for _ in range(copies):
            edited = list(words)
            edited[rng.randrange(len(edited))] = f"e{rng.randrange(10**6)}"
            texts.append(" ".join(edited))
    rng.shuffle(texts)
    return texts


def test_near_dedup_confirmation_reads_are_batched(monkeypatch):
    """The candidate confirmations cost O(rows / CONFIRM_BLOCK) lookups, not O(candidates),
    and the block size does not change the result."""
    texts = _near_pool()
    ids = [f"p{i:04d}" for i in range(len(texts))]
    frame = pd.DataFrame({"id": ids, "instruction": "", "response": texts})
    base = frame_lookup(frame)
    calls: list[int] = []

    def lookup(wanted):
        calls.append(len(wanted))
        return base(wanted)

    chunk = 25
    rows = ChunkedTexts(ids, lookup, chunk)
    got = near_duplicates_in_order(ids, DedupTexts(rows, "response"))
    plain = near_duplicates_in_order(ids, texts)
    assert got == plain and len(got) >= 150  # most copies are dropped
    signature_calls = math.ceil(len(ids) / chunk)
    blocks = math.ceil(len(ids) / minhash.CONFIRM_BLOCK)
    assert len(calls) <= signature_calls + blocks * math.ceil(len(ids) / chunk)
    assert len(calls) - signature_calls <= math.ceil(len(ids) / chunk)  # one block here
    monkeypatch.setattr(minhash, "CONFIRM_BLOCK", 7)
    calls.clear()
    small = near_duplicates_in_order(ids, DedupTexts(ChunkedTexts(ids, lookup, chunk), "response"))
    assert small == got
    assert len(calls) - signature_calls <= math.ceil(len(ids) / 7) * 2


def test_chunked_texts_read_many_is_one_lookup_per_chunk():
    frame = pd.DataFrame({"id": list("abcdefgh"), "instruction": "", "response": list("12345678")})
    calls: list[list[str]] = []
    base = frame_lookup(frame)

    def lookup(ids):
        calls.append(list(ids))
        return base(ids)

    rows = ChunkedTexts(list("abcdefgh"), lookup, chunk_rows=3)
    assert rows[0].response == "1" and calls == [["a", "b", "c"]]
    got = rows.read_many([7, 1, 5, 6, 4, 7])
    assert [t.response for t in got] == list("826758")
    assert calls[1:] == [["h", "f", "g"], ["e"]]  # b from the current chunk
