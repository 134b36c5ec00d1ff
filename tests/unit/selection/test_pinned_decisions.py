"""The selection's outputs pinned: decisions, subset and report of varied pools stay as recorded.

The digests were recorded from the code before selection became one path (commit 9c7ad1b): a
refactor of the selection must reproduce every decision (reason, rank, score, related id), the
subset table and its version, the report's counts and style spread, on frames and on lazy
Parquet parts, in memory and streaming mode. Only a deliberate change of behaviour re-records
them (print ``_select``'s values in place of the assertion), and says why in its commit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.selection import SelectionParams, SelectionRun, curate
from scar_dagster.storage import tables
from scar_dagster.storage.stores import LocalStore
from tests.selection_pool import RANKER, planted_pairs, write_parts

SCENARIOS: dict[str, dict] = {
    "ratio-default": {"ratio": 0.25},
    "top_k": {"top_k": 12},
    "threshold": {"threshold": 0.2},
    "keep-first": {"ratio": 0.3, "dedup_keep": "first"},
    "quotas": {"top_k": 20, "min_per_source": {"c": 6}, "max_per_source": {"a": 3}},
    "reference-response": {
        "ratio": 0.4,
        "english_rule": "reference",
        "english_threshold": 0.15,  # the planted "w123 w4567" texts have 1 letter in 5-6
        "dedup_on": "response",
    },
    "nothing-english": {"top_k": 10, "english_rule": "reference"},  # empty subset
    "threshold-quotas-no-near": {
        "threshold": 0.0,
        "min_per_source": {"b": 2},
        "max_per_source": {"a": 2, "b": 4},
        "near_dedup": False,
    },
    "empty": {"top_k": 0},
    "everything": {"top_k": 500},
    "no-language-no-near": {"top_k": 30, "english_threshold": None, "near_dedup": False},
    "first-response-reference-quotas": {
        "ratio": 0.5,
        "dedup_keep": "first",
        "dedup_on": "response",
        "english_rule": "reference",
        "english_threshold": 0.15,
        "max_per_source": {"b": 5},
        "seed": 7,
    },
}

# recorded at 9c7ad1b: (subset version, digest of decisions + subset + report)
PINNED: dict[str, tuple[str, str]] = {
    "ratio-default": ("b34c01ba46298b56", "4b2676da74692e6f94ea"),
    "top_k": ("39d9e91de6c93401", "13cd8458536b745a89cc"),
    "threshold": ("618cfb7ab49ca887", "cf7c40b4fd8d12cb4a91"),
    "keep-first": ("e5b7e925aa9f96a9", "bfb3123486f26492c802"),
    "quotas": ("f6b88875c78ff0b2", "05c88d1c5f4247a87580"),
    "reference-response": ("f5586fbc0f2a9f7f", "e6f040c5c368c37ae6e2"),
    "nothing-english": ("9cb6397a4dae4e6b", "fbc2384c6489cb3de8f7"),
    "threshold-quotas-no-near": ("7fd7f39d45142088", "c0709770e58474b3ae7d"),
    "empty": ("5a42f4ab728fa71a", "a130008e8429529b77cc"),
    "everything": ("d70d8d9a7e676fc7", "f057666704b54cd3b4e5"),
    "no-language-no-near": ("4fd2cfb83a51b333", "23e983072cd948717d48"),
    "first-response-reference-quotas": ("26be997af2f72ea7", "22455bfc58f1957f95a3"),
}


def _inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The planted pool plus a cross-source copy, an unscored pair and two quarantined rows."""
    pairs, features, scores = planted_pairs()
    copy = pairs.iloc[[7]].assign(source="d", origin_file="copy.jsonl", origin_line=0)
    pairs = pd.concat([pairs, copy], ignore_index=True)
    quarantine = pd.DataFrame(
        {
            "source": ["a", "c"],
            "origin_file": ["part-0.jsonl", "part-1.jsonl"],
            "origin_line": [3, 17],
            "reason": [schema.INGEST_EMPTY_TEXT, schema.INGEST_DUPLICATE],
            "duplicate_of": [None, pairs["id"].iloc[4]],
        }
    )
    for column in schema.QUARANTINE_COLUMNS:
        if column not in quarantine.columns:
            quarantine[column] = None
    return pairs, features, scores.iloc[1:], quarantine


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Frames, their lazy Parquet parts (per source, row groups of 10) and the SQL scores."""
    root = tmp_path_factory.mktemp("pinned")
    pairs, features, scores, quarantine = _inputs()
    pair_parts, feature_parts = write_parts(root / "assets", pairs, features)
    engine = tables.create_engine_for(f"sqlite:///{root / 'scores.db'}")
    tables.ensure_schema(engine)
    tables.upsert_scores(engine, scores.assign(ranker_version=RANKER))
    yield {
        "frames": (pairs, features),
        "parts": (pair_parts, feature_parts),
        "quarantine": quarantine,
        "engine": engine,
    }
    engine.dispose()


def _rounded(value):
    """Floats to 12 significant digits (robust to the last bits of a sum), recursively."""
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return float(f"{value:.12g}")
    return value


def _digest(result, engine) -> str:
    """One sha256 over every decision, the subset table and the report (without the diff,
    which depends on the versions written before)."""
    decisions = tables.read_decisions(engine, result.version).sort_values("id")
    # recorded when the decisions' pair column was called ``pair_id`` (renamed ``id`` since):
    # the digest covers the values, so the old header is restored before hashing
    decisions = decisions.rename(columns={"id": "pair_id"})
    subset = pd.read_parquet(result.subset_file)
    report = result.report
    parts = [
        decisions.to_csv(index=False),
        subset.to_csv(index=False),
        report.counts.to_csv(),
        report.style.to_csv(float_format="%.12g"),
        json.dumps(report.notes),
        json.dumps(result.reason_counts, sort_keys=True),
        json.dumps(_rounded(result.pool_stats), sort_keys=True),
        str(result.max_rows),
    ]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()[:20]


def _select(inputs, tmp_path: Path, scenario: str, kind: str, mode: str) -> tuple[str, str]:
    pairs, features = inputs[kind]
    result = curate(
        pairs=pairs,
        quarantine=inputs["quarantine"],
        features=features,
        ranker_version=RANKER,
        params=SelectionParams(**SCENARIOS[scenario]),
        engine=inputs["engine"],
        store=LocalStore(tmp_path / f"{kind}-{mode}"),
        prefix="subsets",
        folder=tmp_path / "work",
        run=SelectionRun(mode=mode, chunk_rows=7),
    )
    assert result.path == mode
    return result.version, _digest(result, inputs["engine"])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("kind", ["frames", "parts"])
@pytest.mark.parametrize("mode", ["memory", "streaming"])
def test_decisions_are_the_recorded_ones(inputs, tmp_path, scenario, kind, mode):
    assert _select(inputs, tmp_path, scenario, kind, mode) == PINNED[scenario]
