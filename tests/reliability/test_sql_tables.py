"""scored_pairs / selection_decisions tables on SQLite and a real PostgreSQL server."""

from __future__ import annotations

import multiprocessing
import socket
import threading
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import exc, func, inspect, select, text

from scar_dagster import schema
from scar_dagster.selection import SelectionParams
from scar_dagster.storage import tables
from scar_dagster.storage.tables import (
    TableStoreError,
    UnknownPairError,
    already_scored,
    create_engine_for,
    ensure_schema,
    explain,
    list_subset_versions,
    read_decisions,
    read_scores,
    upsert_scores,
    write_decisions,
)
from tests.selection_pool import decide_frame

NASTY = [
    "'; DROP TABLE scored_pairs; --",
    "Robert'); DROP TABLE selection_decisions;--",
    "quote \" and ' both",
    "percent %s %(x)s and :colon ? $1",
    "back\\slash",
    "ünïcode ✓",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'scores.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(db_url: str):
    engine = create_engine_for(db_url)
    tables.metadata.drop_all(engine)
    ensure_schema(engine)
    yield engine
    tables.metadata.drop_all(engine)
    engine.dispose()


def scores(ids, source="web", ranker="rv1", score=None) -> pd.DataFrame:
    ids = list(ids)
    return pd.DataFrame(
        {
            "id": ids,
            "ranker_version": ranker,
            "source": source,
            "score": [float(i) if score is None else score for i in range(len(ids))],
            "n_words": [10 + i for i in range(len(ids))],
            "ttr": 0.5,
            "mtld": 40.0,
            "perplexity": [None] + [12.5] * (len(ids) - 1) if ids else [],
        }
    )


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_schema_and_sqlite_wal(engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert {"scored_pairs", "selection_decisions", "subset_versions"} <= names
    ensure_schema(engine)  # idempotent
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_upsert_is_idempotent_and_updates(engine) -> None:
    frame = scores([f"p{i}" for i in range(5)])
    assert upsert_scores(engine, frame) == 5
    assert upsert_scores(engine, frame) == 5
    assert count(engine, tables.scored_pairs) == 5
    changed = frame.assign(score=frame["score"] + 100, source="other")
    upsert_scores(engine, changed)
    got = read_scores(engine, "rv1")
    assert len(got) == 5
    assert got["score"].tolist() == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert set(got["source"]) == {"other"}
    # A second ranker version is a separate key; repeated keys in one frame keep the last.
    repeated = pd.concat([scores(["p0"], ranker="rv2", score=1.0), scores(["p0"], ranker="rv2")])
    upsert_scores(engine, repeated)
    assert count(engine, tables.scored_pairs) == 6
    assert read_scores(engine, "rv2")["score"].tolist() == [0.0]


def test_upsert_rejects_bad_frames(engine) -> None:
    with pytest.raises(ValueError, match="score"):
        upsert_scores(engine, scores(["a"]).drop(columns="score"))
    with pytest.raises(ValueError, match="no score"):
        upsert_scores(engine, scores(["a"], score=float("nan")))
    assert upsert_scores(engine, scores([])) == 0


def test_already_scored_chunks_large_id_lists(engine) -> None:
    ids = [f"id{i:05d}" for i in range(1200)]
    upsert_scores(engine, scores(ids))
    asked = ids + [f"new{i}" for i in range(100)]
    assert already_scored(engine, "rv1", asked) == set(ids)
    assert already_scored(engine, "rv-other", asked) == set()
    assert already_scored(engine, "rv1", []) == set()


def test_read_scores_filters_sources_without_texts(engine) -> None:
    upsert_scores(engine, scores(["b2", "b1"], source="b"))
    upsert_scores(engine, scores(["a1"], source="a"))
    got = read_scores(engine, "rv1", sources=["b"])
    assert got["id"].tolist() == ["b1", "b2"]
    assert list(got.columns) == list(tables.SCORE_COLUMNS)
    assert "response" not in got.columns
    assert str(got["n_words"].dtype) == "Int64"
    assert got["perplexity"].isna().sum() == 1
    assert got["scored_at"].dt.tz is not None
    assert len(read_scores(engine, "rv1")) == 3
    assert read_scores(engine, "rv1", sources=[]).empty


def decisions(pairs: list[tuple[str, bool, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [p for p, _, _ in pairs],
            "source": "web",
            "selected": [s for _, s, _ in pairs],
            "reason": [r for _, _, r in pairs],
            "rank": pd.array([i + 1 for i in range(len(pairs))], dtype="Int64"),
            "score": [1.0] * len(pairs),
            "related_id": [None] * len(pairs),
        }
    )


def test_write_decisions_replaces_one_version(engine) -> None:
    meta = {"ranker_version": "rv1", "config": {"top_k": 2}}
    first = decisions([("a", True, "selected"), ("b", True, "selected"), ("c", False, "x")])
    write_decisions(engine, "v1", first, meta)
    write_decisions(engine, "v1", first, meta)
    assert count(engine, tables.selection_decisions) == 3
    write_decisions(engine, "v1", decisions([("a", True, "selected"), ("d", False, "x")]), meta)
    write_decisions(engine, "v2", first, meta)
    assert read_decisions(engine, "v1")["id"].tolist() == ["a", "d"]
    assert len(read_decisions(engine, "v2")) == 3
    assert read_decisions(engine, "v2", selected_only=True)["id"].tolist() == ["a", "b"]
    versions = list_subset_versions(engine).set_index("subset_version")
    assert versions.loc["v1", "n_selected"] == 1 and versions.loc["v2", "n_selected"] == 2
    assert versions.loc["v1", "config_json"] == '{"top_k":2}'
    with pytest.raises(ValueError, match="one row per pair id"):
        write_decisions(engine, "v3", pd.concat([first, first]), meta)
    with pytest.raises(ValueError, match="ranker_version"):
        write_decisions(engine, "v3", first, {})


def test_write_decisions_from_a_generator_of_frames(engine) -> None:
    """Frames made one at a time are written without being held together; a pair id in two
    of them (or a missing reason) raises, and the version keeps its earlier decisions."""
    meta = {"ranker_version": "rv1"}
    batches = [[("a", True, "selected"), ("b", False, "x")], [("c", True, "selected")]]
    made: list[int] = []

    def frames(groups):
        for group in groups:
            made.append(len(group))
            yield decisions(group)

    assert write_decisions(engine, "g1", frames(batches), meta) == 3 and made == [2, 1]
    assert sorted(read_decisions(engine, "g1")["id"]) == ["a", "b", "c"]
    assert list_subset_versions(engine).set_index("subset_version").loc["g1", "n_selected"] == 2
    repeated = [[("a", True, "selected")], [("z", False, "x"), ("a", False, "x")]]
    with pytest.raises(ValueError, match="one row per pair id"):
        write_decisions(engine, "g1", frames(repeated), meta)
    with pytest.raises(ValueError, match="repeated: \\['a'\\]"):
        write_decisions(engine, "g1", [decisions(g) for g in repeated], meta)
    missing = decisions([("q", False, "x")]).assign(reason=None)
    with pytest.raises(exc.IntegrityError):  # not a repeat: the database's own error
        write_decisions(engine, "g1", [missing], meta)
    assert sorted(read_decisions(engine, "g1")["id"]) == ["a", "b", "c"]
    assert list_subset_versions(engine).set_index("subset_version").loc["g1", "n_selected"] == 2


def every_reason_candidates() -> pd.DataFrame:
    text50 = " ".join(f"word{i}" for i in range(50))
    near = text50.replace("word25", "changed")
    rows = [
        ("top", "web", 9.0, "Explain tides.", "Tides come from the moon's gravity."),
        ("capped", "web", 8.0, "Explain rain.", "Rain falls when droplets grow heavy."),
        ("low", "code", 1.0, "Explain snow.", "Snow is frozen water vapour in crystals."),
        ("mid", "code", 5.0, "Explain wind.", "Wind is air moving between pressures."),
        ("copy", "code", 0.5, "Explain tides.", "Tides come from the moon's gravity."),
        ("long", "web", 3.0, "Write a list.", text50),
        ("nearcopy", "code", 2.0, "Write a list.", near),
        ("foreign", "web", 7.0, "Erkläre Wärme.", "Это тепло и энергия в движении частиц."),
        ("broken", "web", 6.0, "Explain fog.", ""),
    ]
    frame = pd.DataFrame(rows, columns=["id", "source", "score", "instruction", "response"])
    frame["degenerate_reason"] = [None] * 8 + ["features_empty_response"]
    return frame


def test_explain_each_reason(engine) -> None:
    params = SelectionParams(top_k=2, max_per_source={"web": 1})
    chosen = decide_frame(every_reason_candidates(), params)
    write_decisions(engine, "v1", chosen, {"ranker_version": "rv1", "config": params.to_dict()})
    expected = {
        "top": (schema.SELECTED, None),
        "mid": (schema.SELECTED, None),
        "capped": (schema.SELECT_QUOTA, None),
        "low": (schema.SELECT_BELOW_CUTOFF, None),
        "copy": (schema.DEDUP_EXACT, "top"),
        "nearcopy": (schema.DEDUP_NEAR, "long"),
        "foreign": (schema.LANGUAGE_NON_ENGLISH, None),
        "broken": (schema.FEATURES_DEGENERATE, None),
    }
    for pair_id, (reason, related) in expected.items():
        got = explain(engine, pair_id)
        assert (got["reason"], got["related_id"]) == (reason, related), pair_id
        assert got["selected"] == (reason == schema.SELECTED)
        assert got["subset_version"] == "v1"
    assert explain(engine, "top")["rank"] == 1
    assert explain(engine, "copy")["rank"] is None


def test_explain_picks_latest_version_and_rejects_unknown(engine) -> None:
    old = datetime(2024, 1, 1, tzinfo=UTC)
    write_decisions(
        engine,
        "zzz-old",
        decisions([("a", False, "select_below_cutoff")]),
        {"ranker_version": "rv0", "created_at": old},
    )
    write_decisions(
        engine,
        "aaa-new",
        decisions([("a", True, "selected")]),
        {"ranker_version": "rv1", "created_at": old + timedelta(days=1)},
    )
    assert explain(engine, "a")["subset_version"] == "aaa-new"
    assert explain(engine, "a", "zzz-old")["reason"] == "select_below_cutoff"
    with pytest.raises(KeyError, match="nope"):
        explain(engine, "nope")
    with pytest.raises(UnknownPairError, match="in subset version 'v9'"):
        explain(engine, "a", "v9")


def test_sql_metacharacters_round_trip(engine) -> None:
    frame = pd.concat([scores([f"{name}-id"], source=name) for name in NASTY])
    upsert_scores(engine, frame)
    upsert_scores(engine, frame)
    for name in NASTY:
        got = read_scores(engine, "rv1", sources=[name])
        assert got["id"].tolist() == [f"{name}-id"]
        assert got["source"].tolist() == [name]
    assert already_scored(engine, "rv1", [f"{n}-id" for n in NASTY]) == {f"{n}-id" for n in NASTY}
    assert read_scores(engine, NASTY[0]).empty  # as a ranker version, too
    chosen = pd.DataFrame(
        {
            "id": [f"{n}-id" for n in NASTY],
            "source": NASTY,
            "selected": True,
            "reason": "selected",
            "related_id": NASTY,
        }
    )
    write_decisions(engine, NASTY[1], chosen, {"ranker_version": NASTY[0], "config": NASTY})
    for name in NASTY:
        got = explain(engine, f"{name}-id", NASTY[1])
        assert (got["source"], got["related_id"]) == (name, name)
    assert count(engine, tables.scored_pairs) == len(NASTY)
    assert count(engine, tables.selection_decisions) == len(NASTY)


def _upsert_partition(url: str, source: str, n: int, shared: int) -> None:
    """Write one partition in many small transactions plus rows shared with the other writer."""
    engine = create_engine_for(url)
    try:
        ensure_schema(engine)
        ids = [f"{source}-{i:04d}" for i in range(n)]
        for start in range(0, n, 50):
            upsert_scores(engine, scores(ids[start : start + 50], source=source))
            upsert_scores(engine, scores([f"shared-{i}" for i in range(shared)], source="shared"))
    finally:
        engine.dispose()


def _check_partitions(engine, n: int, shared: int) -> None:
    got = read_scores(engine, "rv1")
    assert len(got) == 2 * n + shared
    assert got["id"].is_unique
    assert got["source"].value_counts().to_dict() == {"left": n, "right": n, "shared": shared}


def test_concurrent_upserts_from_two_threads(db_url: str, engine) -> None:
    errors: list[BaseException] = []

    def work(source: str) -> None:
        try:
            _upsert_partition(db_url, source, 400, 30)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(s,)) for s in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    _check_partitions(engine, 400, 30)


def test_concurrent_upserts_from_two_processes_sqlite(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_upsert_partition, args=(url, source, 300, 20))
        for source in ("left", "right")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    engine = create_engine_for(url)
    _check_partitions(engine, 300, 20)
    engine.dispose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_postgres_masks_password() -> None:
    url = f"postgresql+psycopg://scar:s3cret-pw@127.0.0.1:{_closed_port()}/nope"
    engine = create_engine_for(url)
    with pytest.raises(TableStoreError) as caught:
        ensure_schema(engine)
    message = str(caught.value)
    assert "scar:***@127.0.0.1" in message
    assert "s3cret-pw" not in message
    assert caught.value.__cause__ is None and "s3cret-pw" not in repr(caught.value)


def test_unopenable_sqlite_names_the_url(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    with pytest.raises(TableStoreError, match="missing-dir"):
        read_scores(create_engine_for(url), "rv1")


def test_bare_postgresql_url_uses_psycopg3() -> None:
    engine = create_engine_for("postgresql://u:p@localhost/db")
    assert engine.url.drivername == "postgresql+psycopg"


def test_ensure_schema_renames_the_old_pair_id_columns_keeping_rows_and_keys(db_url) -> None:
    """Tables written before a pair was ``id`` in SQL (``pair_id``) are migrated in place."""
    engine = create_engine_for(db_url)
    tables.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE scored_pairs (pair_id VARCHAR NOT NULL, ranker_version VARCHAR NOT "
            "NULL, source VARCHAR NOT NULL, score FLOAT NOT NULL, scored_at TIMESTAMP NOT NULL, "
            "PRIMARY KEY (pair_id, ranker_version))"
        )
        conn.exec_driver_sql(
            "CREATE TABLE selection_decisions (subset_version VARCHAR NOT NULL, pair_id VARCHAR "
            "NOT NULL, source VARCHAR NOT NULL, selected BOOLEAN NOT NULL, reason VARCHAR NOT "
            "NULL, rank INTEGER, score FLOAT, related_id VARCHAR, decided_at TIMESTAMP NOT NULL, "
            "PRIMARY KEY (subset_version, pair_id))"
        )
        conn.exec_driver_sql(
            "INSERT INTO scored_pairs VALUES ('p1', 'rv1', 'web', 0.5, '2026-01-01 00:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO selection_decisions VALUES "
            "('s1', 'p1', 'web', true, 'selected', 1, 0.5, NULL, '2026-01-01 00:00:00')"
        )
    ensure_schema(engine)
    ensure_schema(engine)  # idempotent once migrated
    for table in ("scored_pairs", "selection_decisions"):
        columns = {c["name"] for c in inspect(engine).get_columns(table)}
        assert "id" in columns and "pair_id" not in columns, table
        assert "id" in inspect(engine).get_pk_constraint(table)["constrained_columns"], table
    assert read_scores(engine, "rv1")["id"].tolist() == ["p1"]
    assert already_scored(engine, "rv1", ["p1", "p2"]) == {"p1"}
    upsert_scores(engine, scores(["p1"], score=0.9))  # the key still holds: an update
    assert read_scores(engine, "rv1")["score"].tolist() == [0.9]
    with engine.begin() as conn:
        conn.execute(
            tables.subset_versions.insert().values(
                subset_version="s1",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
                n_selected=1,
                ranker_version="rv1",
                config_json="{}",
            )
        )
    assert explain(engine, "p1", "s1")["reason"] == "selected"
    tables.metadata.drop_all(engine)
    engine.dispose()
