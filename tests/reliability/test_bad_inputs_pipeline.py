"""Bad inputs through the real pipeline: landing sensor -> raw_pairs -> ... -> selected_subset.

One landing zone holds every case, each in its own file (or folder), so one materialization
per stage covers them all while every assertion stays precise: a quarantined row is found by
its file and line and must carry exactly the expected reason. The accounting invariant is
checked at every stage: ingest (input = kept + duplicates + quarantined), features (one row
per kept pair), scoring (one SQL row per kept pair) and selection (one decision per input row).
"""

import codecs
import csv
import gzip
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, build_sensor_context

from definitions import defs
from scar_dagster import schema as r
from scar_dagster.ranker.data.training_data import (
    QUADRUPLE_QUALITY_NON_NUMERIC,
    QUADRUPLE_QUALITY_OUT_OF_RANGE,
)
from scar_dagster.selection.outside_pool import quarantine_key
from scar_dagster.storage import tables
from tests.pipeline import (
    materialize_group,
    resources,
    run_config,
    run_pipeline,
    write_quadruples,
)
from tests.planted import TOPICS, guide

landing_zone_sensor = defs.resolve_sensor_def("landing_zone_sensor")
HUGE_CHARS = 5 * 1024 * 1024  # a 5 MB response, over the 100,000-character default limit
BAD_FOLDERS = ["a..b", "with space", "back\\slash", "f\u043erum", "cafe\u0301", "zero\u200bw"]


def good(i: int, variant: str = "") -> dict:
    """A clean, English, structured pair (distinct per ``i`` and ``variant``)."""
    return {"prompt": f"How do I {TOPICS[i]}{variant}?", "response": guide(TOPICS[i])}


def line(row: dict | list) -> bytes:
    return json.dumps(row).encode() + b"\n"


DUP = good(10)  # repeated within a file, across files and in another source

# file -> (bytes, records the reader sees, {line: reason} of rows expected in quarantine)
CASES: dict[str, tuple[bytes, int, dict[int, str]]] = {
    "a_malformed_middle.jsonl": (
        line(good(0)) + b'{"prompt": "broken", "resp\n' + line(good(1)),
        3,
        {2: r.INGEST_MALFORMED_JSON},
    ),
    "b_truncated_final.jsonl": (
        line(good(2)) + b'{"prompt": "cut off", "response": "Half a sen',
        2,
        {2: r.INGEST_MALFORMED_JSON},
    ),
    "c_fields.jsonl": (
        b"".join(
            line(row)
            for row in [
                {"response": "no prompt"},
                {"instruction": "no output field"},
                {"prompt": None, "response": "null prompt"},
                {"prompt": "number", "response": 42},
                {"prompt": "list", "response": ["a", "b"]},
                {"prompt": {"nested": "dict"}, "response": "dict prompt"},
                {"prompt": "bool", "response": True},
                {"prompt": "empty", "response": ""},
                {"prompt": "whitespace", "response": "  \n\t  \n"},
                {"prompt": "\u200b\u200d", "response": "zero-width-only prompt"},
                {"unrelated": "layout"},
                [1, 2, 3],
                good(3),
            ]
        ),
        13,
        {
            1: r.INGEST_MISSING_FIELD,
            2: r.INGEST_MISSING_FIELD,
            3: r.INGEST_NULL_VALUE,
            4: r.INGEST_NON_STRING,
            5: r.INGEST_NON_STRING,
            6: r.INGEST_NON_STRING,
            7: r.INGEST_NON_STRING,
            8: r.INGEST_EMPTY_TEXT,
            9: r.INGEST_EMPTY_TEXT,
            10: r.INGEST_EMPTY_TEXT,
            11: r.INGEST_UNKNOWN_FORMAT,
            12: r.INGEST_MALFORMED_JSON,
        },
    ),
    "d_huge.jsonl": (
        line(good(4)) + line({"prompt": "Write a lot.", "response": "word " * (HUGE_CHARS // 5)}),
        2,
        {2: r.INGEST_TOO_LONG},
    ),
    "e_invalid_utf8.jsonl": (
        line(good(5)) + b'{"prompt": "bad \xff\xfe bytes", "response": "x"}\n' + line(good(6)),
        3,
        {2: r.INGEST_INVALID_ENCODING},
    ),
    "f_utf16.jsonl": (
        codecs.BOM_UTF16_LE + (line(good(7)) + line(good(8))).decode().encode("utf-16-le"),
        2,
        {},
    ),
    "g_bom.jsonl": (codecs.BOM_UTF8 + line(good(9)), 1, {}),
    "h_dups.jsonl": (line(DUP) + line(DUP), 2, {2: r.INGEST_DUPLICATE}),
    "i_dups_again.jsonl": (line(DUP), 1, {1: r.INGEST_DUPLICATE}),
    "j_non_english.jsonl": (
        line({"prompt": "Как сварить яйцо?", "response": "Положите яйцо в кипящую воду."})
        + line({"prompt": "如何排序列表？", "response": "使用内置的排序函数，然后检查结果。"}),
        2,
        {},
    ),
    "k_notes.txt": (b"just some notes\n", 1, {0: r.INGEST_UNSUPPORTED_FILE_TYPE}),
    "m_empty.jsonl": (b"", 1, {0: r.INGEST_EMPTY_FILE}),
    "n_blank_lines.jsonl": (b"\n  \n\n", 1, {0: r.INGEST_EMPTY_FILE}),
    # A cut-off array keeps its complete records; the rest is one row (issue 19).
    "o_broken_array.json": (b'[{"prompt": "a", "response": "b"},', 2, {2: r.INGEST_TRUNCATED_FILE}),
    "q_cut_array.json.gz": (
        gzip.compress(json.dumps([good(17), good(18)]).encode()[:-40]),
        2,
        {2: r.INGEST_TRUNCATED_FILE},
    ),
    "p_not_parquet.parquet": (b"PAR1 this is not parquet", 1, {0: r.INGEST_UNREADABLE_FILE}),
}


def _wrong_types_parquet() -> bytes:
    frame = pd.DataFrame({"prompt": [1, 2], "response": ["a number prompt", "another one"]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode()


CASES["r_rows.csv"] = (
    _csv([["prompt", "response"], [good(19)["prompt"], good(19)["response"]], ["x", "y", "z"]]),
    2,
    {2: r.INGEST_MALFORMED_ROW},
)
CASES["l_wrong_types.parquet"] = (
    _wrong_types_parquet(),
    2,
    {1: r.INGEST_NON_STRING, 2: r.INGEST_NON_STRING},
)
CASES["s_hub_layouts.jsonl"] = (
    line({"question": good(15)["prompt"], "answer": good(15)["response"]})
    + line({"prompt": "which one?", "response": "this", "completion": "or this"})
    + line(
        {
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
                {"role": "assistant", "content": "A picture."},
            ]
        }
    ),
    3,
    {2: r.INGEST_AMBIGUOUS_LAYOUT, 3: r.INGEST_NON_TEXT_CONTENT},
)
# Paths that are not read: one row each, at line 0.
LINKS = {"t_link_out.jsonl": r.INGEST_SYMLINK_OUTSIDE_ZONE}
OTHER_ROWS = [good(i) for i in range(11, 15)] + [good(16), DUP]  # DUP: a copy across sources


def _write_landing(landing: Path) -> None:
    for name, (data, _, _) in CASES.items():
        path = landing / "cases" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    outside = landing.parent / "outside.jsonl"
    outside.write_bytes(line(good(19, " (outside the zone)")))
    for name in LINKS:
        (landing / "cases" / name).symlink_to(outside)
    (landing / "other").mkdir()
    (landing / "other" / "rows.jsonl").write_bytes(b"".join(line(row) for row in OTHER_ROWS))
    for folder in BAD_FOLDERS:
        (landing / folder).mkdir()
        (landing / folder / "a.jsonl").write_bytes(line(good(0, " (hostile folder)")))


def _write_quadruples(path: Path) -> Path:
    write_quadruples(path)
    good_row = json.loads(path.read_text().splitlines()[0])
    bad = [
        {**good_row, "quality_direct": 11},
        {**good_row, "quality_human": -1},
        {**good_row, "quality_referenced": "high"},
    ]
    with path.open("a") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in bad)
    return path


def _meta(result, node: str, output: str | None = None) -> dict:
    events = result.asset_materializations_for_node(node)
    if output:
        events = [e for e in events if e.asset_key.path[-1] == output]
    return {k: v.value for k, v in events[0].metadata.items()}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Drive the whole pipeline once over the bad landing zone; keep every result."""
    root = tmp_path_factory.mktemp("bad_inputs")
    landing, home = root / "landing", root / "home"
    home.mkdir()
    _write_landing(landing)
    quads = _write_quadruples(root / "quads.jsonl")
    res = resources(home, landing)
    with DagsterInstance.ephemeral() as instance:
        with build_sensor_context(instance=instance, resources=res) as context:
            tick = landing_zone_sensor(context)
        for request in tick.dynamic_partitions_requests:
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        sources = instance.get_dynamic_partitions("data_source")
        # The style gate may fail on this odd pool; the subset and its decisions exist anyway.
        results = run_pipeline(instance, home, landing, quads, sources=sources, ratio=0.5)
        yield {
            "tick": tick,
            "sources": sources,
            "results": results,
            "home": home,
            "engine": res["database"].get_engine(),
        }


def _frame(home: Path, asset: str, source: str) -> pd.DataFrame:
    return pd.read_parquet(home / "assets" / asset / f"{source}.parquet")


def test_only_valid_folders_become_sources(run):
    assert run["sources"] == ["cases", "other"]
    assert sorted(request.partition_key for request in run["tick"].run_requests) == [
        "cases",
        "other",
    ]
    results = run["results"]
    assert all(result.success for key, result in results.items() if key != "selection")
    assert results["selection"].asset_materializations_for_node("selected_subset")
    written = {p.name for p in (run["home"] / "assets" / "raw_pairs").iterdir()}
    assert written == {"cases.parquet", "other.parquet"}


def test_every_bad_row_is_quarantined_with_its_reason(run):
    quarantine = _frame(run["home"], "raw_quarantine", "cases")
    found = {
        (row.origin_file, int(row.origin_line)): row.reason
        for row in quarantine.itertuples(index=False)
    }
    expected = {
        (name, number): reason
        for name, (_, _, bad) in CASES.items()
        for number, reason in bad.items()
    } | {(name, 0): reason for name, reason in LINKS.items()}
    assert found == expected
    assert len(quarantine) == len(expected)  # one row per bad input row, nothing twice
    dup_id = (
        _frame(run["home"], "raw_pairs", "cases").set_index("origin_file").loc["h_dups.jsonl", "id"]
    )
    dups = quarantine[quarantine["reason"] == r.INGEST_DUPLICATE]
    assert set(dups["duplicate_of"]) == {dup_id}
    too_long = quarantine[quarantine["reason"] == r.INGEST_TOO_LONG].iloc[0]
    assert too_long["detail"] == ("response has 5,242,879 characters, over the limit of 100,000")
    assert len(too_long["excerpt"]) <= 201  # the 5 MB text itself is not copied around


def test_good_rows_of_bad_files_are_kept_with_their_lines(run):
    pairs = _frame(run["home"], "raw_pairs", "cases")
    kept = set(zip(pairs["origin_file"], pairs["origin_line"], strict=True))
    assert {
        ("a_malformed_middle.jsonl", 1),
        ("a_malformed_middle.jsonl", 3),
        ("b_truncated_final.jsonl", 1),
        ("c_fields.jsonl", 13),
        ("d_huge.jsonl", 1),
        ("e_invalid_utf8.jsonl", 1),
        ("e_invalid_utf8.jsonl", 3),
        ("f_utf16.jsonl", 1),
        ("f_utf16.jsonl", 2),
        ("g_bom.jsonl", 1),
        ("h_dups.jsonl", 1),
        ("j_non_english.jsonl", 1),
        ("j_non_english.jsonl", 2),
        ("o_broken_array.json", 1),
        ("q_cut_array.json.gz", 1),
        ("r_rows.csv", 1),
        ("s_hub_layouts.jsonl", 1),
    } == kept
    bom = pairs.set_index("origin_file").loc["g_bom.jsonl"]
    assert bom["instruction"] == good(9)["prompt"]  # the BOM is not part of the text
    assert pairs["id"].is_unique


def test_ingest_accounting_at_every_source(run):
    cases = sum(n for _, n, _ in CASES.values()) + len(LINKS)
    expected_inputs = {"cases": cases, "other": len(OTHER_ROWS)}
    for source, inputs in expected_inputs.items():
        result = run["results"][f"features/{source}"]
        meta = _meta(result, "ingest_source", "raw_pairs")
        kept = len(_frame(run["home"], "raw_pairs", source))
        dropped = _frame(run["home"], "raw_quarantine", source)
        duplicates = int((dropped["reason"] == r.INGEST_DUPLICATE).sum())
        assert meta["input_records"] == inputs
        assert (meta["duplicates"], meta["quarantined"]) == (duplicates, len(dropped) - duplicates)
        assert kept + len(dropped) == inputs
        checks = [
            check.passed
            for check in result.get_asset_check_evaluations()
            if check.check_name == "raw_pairs_row_accounting"
        ]
        assert checks == [True]


def test_features_and_scores_cover_every_kept_pair_once(run):
    ranker = _meta(run["results"]["ranker"], "style_ranker")["champion_version"]
    scores = tables.read_scores(run["engine"], ranker)
    assert scores["id"].is_unique  # one row per (pair, ranker version), even across sources
    every_id: set[str] = set()
    for source in run["sources"]:
        ids = set(_frame(run["home"], "raw_pairs", source)["id"])
        every_id |= ids
        features = _frame(run["home"], "style_features", source)
        assert len(features) == len(ids) and set(features["id"]) == ids
        meta = _meta(run["results"][f"scoring/{source}"], "scored_pairs")
        assert meta["rows_scored"] + meta["rows_reused"] == len(ids)
    assert set(scores["id"]) == every_id
    # The cross-source copy was scored once, by the first source, and reused by the second.
    assert _meta(run["results"]["scoring/other"], "scored_pairs")["rows_reused"] == 1


def test_every_input_row_has_exactly_one_decision(run):
    meta = _meta(run["results"]["selection"], "selected_subset")
    decisions = tables.read_decisions(run["engine"], meta["subset_version"])
    inputs = sum(n for _, n, _ in CASES.values()) + len(LINKS) + len(OTHER_ROWS)
    assert len(decisions) == decisions["id"].nunique() == inputs
    reasons = decisions.set_index("id")["reason"]
    quarantine = _frame(run["home"], "raw_quarantine", "cases")
    turns = {(row.origin_file, row.origin_line): row.origin_turn for row in quarantine.itertuples()}
    assert turns[("s_hub_layouts.jsonl", 3)] == 2  # a conversation's pair: keyed by its turn too
    for name, (_, _, bad) in CASES.items():
        for number, reason in bad.items():
            key = quarantine_key("cases", name, number, turns[(name, number)])
            assert reasons[key] == reason
    for name, reason in LINKS.items():
        assert reasons[quarantine_key("cases", name, 0)] == reason
    cases = _frame(run["home"], "raw_pairs", "cases").set_index("origin_file")
    dup_id = cases.loc["h_dups.jsonl", "id"]
    copy = decisions.set_index("id").loc[f"duplicate:other:{dup_id}"]
    assert (copy["reason"], copy["related_id"]) == (r.DEDUP_EXACT, dup_id)
    non_english = cases.loc["j_non_english.jsonl", "id"].tolist()
    assert reasons[non_english].tolist() == [r.LANGUAGE_NON_ENGLISH] * 2
    selected = decisions[decisions["selected"]]
    assert len(selected) == meta["dagster/row_count"] > 0


def test_out_of_range_quadruple_qualities_are_rejected(run):
    meta = _meta(run["results"]["ranker"], "ranker_training_data")
    assert meta["dagster/row_count"] == 15 and meta["quarantined"] == 3
    table = meta["quarantined_by_reason"]
    assert f"| {QUADRUPLE_QUALITY_OUT_OF_RANGE} | 2 |" in table
    assert f"| {QUADRUPLE_QUALITY_NON_NUMERIC} | 1 |" in table


@pytest.mark.parametrize("key", ["../escape", "a/b"])
def test_hostile_partition_key_fails_clearly_and_writes_nothing(tmp_path, key):
    landing, home = tmp_path / "landing", tmp_path / "home"
    (landing / "ok").mkdir(parents=True)
    home.mkdir()
    (landing / "ok" / "a.jsonl").write_bytes(line(good(0)))
    res = resources(home, landing)
    config = run_config(tmp_path / "unused.jsonl")
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", [key])
        result = materialize_group(instance, res, config, ["ingest"], key, raise_on_error=False)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    text = []
    while error is not None:
        text.append(error.message)
        error = error.cause or error.context
    assert "invalid source name" in "\n".join(text)
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == []  # permanent: failed at once, not retried
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert not any("escape" in p for p in written)
    assert not (home / "assets").exists()
