"""The scale benchmark's generator: deterministic, long-tailed lengths, 4 sources and styles."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from benchmarks.synthetic import (
    SOURCES,
    split_rows,
    synthetic_features,
    synthetic_scores,
    write_landing_zone,
)
from scar_dagster.ingest.normalize import RecordQuarantined, normalize_record


def files_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.jsonl"))}


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("landing")
    return root, write_landing_zone(root, 4000, seed=1, file_rows=600)


def pairs(root: Path) -> dict[str, list]:
    """Normalized (instruction, response) per source; bad lines skipped."""
    out: dict[str, list] = {}
    for path in sorted(root.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                pair = normalize_record(record, source="s", origin_file="f", origin_line=1)
            except (json.JSONDecodeError, RecordQuarantined):
                continue
            out.setdefault(path.parent.name, []).append((pair.instruction, pair.response))
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, landing):
    root, _ = landing
    write_landing_zone(tmp_path / "again", 4000, seed=1, file_rows=600)
    write_landing_zone(tmp_path / "other", 4000, seed=2, file_rows=600)
    assert files_bytes(tmp_path / "again") == files_bytes(root)
    other = files_bytes(tmp_path / "other")
    assert other.keys() == files_bytes(root).keys()
    assert all(other[key] != value for key, value in files_bytes(root).items())


def test_four_sources_with_their_counts(landing):
    root, counts = landing
    assert [c.source for c in counts] == [s.name for s in SOURCES]
    assert sorted(p.name for p in root.iterdir()) == sorted(s.name for s in SOURCES)
    for c in counts:
        lines = sum(
            len(p.read_text(encoding="utf-8").splitlines()) for p in (root / c.source).iterdir()
        )
        assert lines == c.records == 1000
        assert c.files == 2  # 600 rows per file
        assert c.bad >= 0 and c.duplicates > 0
    assert sum(c.bad for c in counts) > 0
    assert sum(c.non_english for c in counts) > 0
    assert split_rows(10, 4) == [3, 3, 2, 2]


def test_lengths_are_realistic_and_long_tailed(landing):
    root, _ = landing
    all_pairs = [p for rows in pairs(root).values() for p in rows]
    instruction = [len(x.split()) for x, _ in all_pairs]
    response = sorted(len(y.split()) for _, y in all_pairs)
    assert 10 <= statistics.median(instruction) <= 40
    assert 80 <= statistics.median(response) <= 250
    p99 = response[int(0.99 * len(response))]
    assert p99 >= 3 * statistics.median(response)  # a long right tail
    assert min(response) >= 5


def test_sources_mix_styles(landing):
    root, _ = landing
    by_source = pairs(root)
    markers = {"bullets": "\n- ", "numbered": "\n2. ", "code": "```", "headers": "## "}
    seen = {
        name: {k: sum(m in y for _, y in rows) for k, m in markers.items()}
        for name, rows in by_source.items()
    }
    assert seen["code"]["code"] > seen["forum"]["code"]
    assert seen["guides"]["headers"] > seen["forum"]["headers"]
    assert all(count > 0 for count in seen["mixed"].values())


def test_scores_are_deterministic_with_ties():
    ids = [f"{i:024x}" for i in range(5000)]
    scores = synthetic_scores(ids)
    assert scores == synthetic_scores(ids)
    assert all(-1 <= s < 1 for s in scores)
    assert len(set(scores)) < len(scores)


def test_features_from_ids_are_deterministic_and_rarely_degenerate():
    ids = [f"{i:024x}" for i in range(5000)]
    features = synthetic_features(ids)
    assert features.equals(synthetic_features(ids))
    assert features["id"].tolist() == ids
    assert 0 < features["degenerate_reason"].notna().sum() < 25
