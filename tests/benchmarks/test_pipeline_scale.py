"""The damaged dump pipeline_scale ingests, its partition plan, and run_all's partial update
(no timings)."""

from __future__ import annotations

import gzip

from benchmarks import pipeline_scale, run_all
from benchmarks.synthetic import write_damaged_dump
from scar_dagster.ingest.readers import read_records


def test_damaged_dump_keeps_exactly_the_complete_records(tmp_path):
    counts = write_damaged_dump(tmp_path, 300, seed=0)
    assert 0 < counts["complete_records"] < counts["records_written"]
    with open(tmp_path / "dump.json.gz", "rb") as stream:
        records = list(read_records("dump.json.gz", stream))
    parsed = [r for r in records if r.payload is not None]
    damaged = [r for r in records if r.payload is None]
    assert len(parsed) == counts["complete_records"]
    assert [r.reason for r in damaged] == ["ingest_truncated_file"]
    with gzip.open(tmp_path / "dump.json.gz") as raw:
        assert not raw.read().rstrip().endswith(b"]")


def test_stage_keys_cover_every_source_and_shard():
    assert pipeline_scale.stage_keys("ingest", ["a", "b"], 4) == ["a", "b"]
    assert pipeline_scale.stage_keys("features", ["a"], 1) == ["a"]
    assert pipeline_scale.stage_keys("scoring", ["a", "b"], 2) == ["a|0", "a|1", "b|0", "b|1"]
    assert pipeline_scale.stage_keys("selection", ["a", "b"], 2) == []


def test_split_results_keeps_sub_headings_inside_their_section():
    titles = {"First", "Second"}
    text = "# Results\n\n- date: x\n\n## First\n\nbody\n\n## a sub-heading\n\nmore\n"
    text += "## Second\nend\n"
    header, sections = run_all.split_results(text, titles)
    assert header == ["# Results", "", "- date: x"]
    assert list(sections) == ["First", "Second"]
    assert "## a sub-heading" in sections["First"] and "more" in sections["First"]
    assert sections["Second"] == "## Second\nend\n"


def test_an_update_keeps_one_blank_line_between_sections():
    titles = {"First", "Second"}
    text = "# Results\n\n## First\n\nbody\n\n\n\n## Second\nend\n"
    _, sections = run_all.split_results(text, titles)
    assert sections["First"] == "## First\n\nbody\n"  # joined with "\n": one blank line
