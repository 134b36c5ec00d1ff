"""SQL tables for scored pairs, selection decisions and cached perplexities (SQLAlchemy 2 Core).

SQLite (a file, the default) and PostgreSQL are tested. Upserts use the dialect's
``INSERT ... ON CONFLICT DO UPDATE`` and fall back to delete + insert elsewhere. Every
value travels as a bound parameter; errors name the URL with its password masked.

Example::

    engine = create_engine_for("sqlite:///scores.db")
    ensure_schema(engine)
    upsert_scores(engine, frame)  # id, ranker_version, source, score, features...
    scores = read_scores(engine, "rv1")
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import pandas as pd
from sqlalchemy import (
    URL,
    Boolean,
    Column,
    DateTime,
    Double,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    exc,
    insert,
    make_url,
    select,
    update,
)
from sqlalchemy.engine import Connection

from scar_dagster.schema import DECISION_COLUMNS

CHUNK_ROWS = 1000  # rows per executemany call
CHUNK_IDS = 500  # values per IN list (well under SQLite's bound-parameter limit)
SQLITE_BUSY_TIMEOUT_MS = 60_000
_WRITE_OPTION = "scar_write_transaction"

metadata = MetaData()

scored_pairs = Table(
    "scored_pairs",
    metadata,
    Column("id", String, primary_key=True),
    Column("ranker_version", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("score", Double, nullable=False),
    Column("n_words", Integer),
    Column("ttr", Double),
    Column("mtld", Double),
    Column("perplexity", Double),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    # Device type and dtype of the scoring run, e.g. "cpu/bfloat16" (None: before it was kept).
    Column("score_precision", String),
    Index("ix_scored_pairs_source_ranker", "source", "ranker_version"),
    Index("ix_scored_pairs_ranker_score", "ranker_version", "score"),
)

selection_decisions = Table(
    "selection_decisions",
    metadata,
    Column("subset_version", String, primary_key=True),
    Column("id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("selected", Boolean, nullable=False),
    Column("reason", String, nullable=False),
    Column("rank", Integer),
    Column("score", Double),
    Column("related_id", String),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Index("ix_selection_decisions_pair", "id"),
)

subset_versions = Table(
    "subset_versions",
    metadata,
    Column("subset_version", String, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("n_selected", Integer, nullable=False),
    Column("ranker_version", String, nullable=False),
    Column("config_json", Text, nullable=False),
)

# Perplexities computed once per pair, LM version and kind, shared by every asset that reads
# them (scar_dagster.style.surprisal_cache); NULL perplexity: a response of no tokens.
surprisal_scores = Table(
    "surprisal_scores",
    metadata,
    Column("id", String, primary_key=True),
    Column("model_version", String, primary_key=True),
    Column("kind", String, primary_key=True),
    Column("perplexity", Double),
    Column("truncated", Boolean, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)

# Scores of the other selectors (scar_dagster.selectors), keyed by pair id and selector version.
selector_scores = Table(
    "selector_scores",
    metadata,
    Column("id", String, primary_key=True),
    Column("selector_version", String, primary_key=True),
    Column("selector", String, nullable=False),
    Column("source", String, nullable=False),
    Column("score", Double, nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    Index("ix_selector_scores_version_score", "selector_version", "score"),
)

SCORE_COLUMNS = tuple(c.name for c in scored_pairs.columns)
SURPRISAL_COLUMNS = ("id", "perplexity", "truncated")


class TableStoreError(RuntimeError):
    """A database operation failed; the message names the URL with its password masked."""


class UnknownPairError(KeyError):
    """No selection decision exists for the requested pair (and subset version)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def masked_url(engine: Engine) -> str:
    """The engine's URL with the password replaced by ``***``."""
    return engine.url.render_as_string(hide_password=True)


def _masked_errors(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Re-raise connection-level failures as TableStoreError naming the masked URL."""

    @wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(*args, **kwargs)
        except (exc.OperationalError, exc.InterfaceError) as error:
            url = make_url(getattr(args[0], "url", "sqlite://"))
            detail = str(getattr(error, "orig", None) or error).strip()
            if url.password:
                detail = detail.replace(str(url.password), "***")
            shown = url.render_as_string(hide_password=True)
            message = f"{fn.__name__} failed on {shown}: {detail}"
            raise TableStoreError(message) from None

    return wrapper


def create_engine_for(url: str | URL, **engine_kwargs: Any) -> Engine:
    """Create an engine for ``url`` tuned for concurrent writers.

    SQLite: WAL journal, a busy timeout, and ``BEGIN IMMEDIATE`` for write transactions, so
    two processes or threads writing at once wait for each other instead of failing.
    PostgreSQL: a bare ``postgresql://`` URL uses psycopg 3; connections are pre-pinged.
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    connect_args = dict(engine_kwargs.pop("connect_args", {}))
    if backend == "sqlite":
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(parsed, connect_args=connect_args, **engine_kwargs)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        connect_args.setdefault("connect_timeout", 10)
        engine_kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, connect_args=connect_args, **engine_kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (_on_begin)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS:d}")
            cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def _write(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            yield conn


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@_masked_errors
def ensure_schema(engine: Engine) -> None:
    """Create the tables and their indexes if missing (safe to call concurrently)."""
    for attempt in range(3):
        try:
            with _write(engine) as conn:
                _rename_old_columns(conn)
                metadata.create_all(conn, checkfirst=True)
                _add_missing_columns(conn, scored_pairs)
            return
        except (exc.IntegrityError, exc.ProgrammingError):
            if attempt == 2:  # another process created the same objects at the same time
                raise


# Columns renamed since a release wrote them: table -> {old name: new name}. A pair is ``id`` in
# every table, file and export (``pair_id`` in SQL before).
RENAMED_COLUMNS: dict[str, dict[str, str]] = {
    "scored_pairs": {"pair_id": "id"},
    "selection_decisions": {"pair_id": "id"},
}


def _rename_old_columns(conn: Connection) -> None:
    """Migrate existing tables: rename each old column that is present and whose new name is
    not (``ALTER TABLE ... RENAME COLUMN``: SQLite >= 3.25 and PostgreSQL keep the column's
    data, primary key and indexes)."""
    from sqlalchemy import inspect

    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    for table, renames in RENAMED_COLUMNS.items():
        if table not in existing:
            continue
        present = {c["name"] for c in inspector.get_columns(table)}
        for old, new in renames.items():
            if old in present and new not in present:
                conn.exec_driver_sql(f'ALTER TABLE {table} RENAME COLUMN "{old}" TO "{new}"')


def _add_missing_columns(conn: Connection, table: Table) -> None:
    """Add nullable columns newer than an existing table (e.g. ``score_precision``)."""
    from sqlalchemy import inspect

    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    for column in table.columns:
        if column.name not in present and column.nullable:
            kind = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')


# ---------------------------------------------------------------- value conversion


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _utc(value: Any) -> datetime:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def _values(frame: pd.DataFrame, name: str, convert: Callable[[Any], Any]) -> list[Any]:
    """Python values of a column (``None`` for missing), or all ``None`` if absent."""
    if name not in frame.columns:
        return [None] * len(frame)
    return [None if _is_missing(v) else convert(v) for v in frame[name].tolist()]


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs columns {missing}; got {list(frame.columns)}")


def _score_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    _require(frame, ("id", "ranker_version", "source", "score"), "upsert_scores")
    frame = frame.drop_duplicates(subset=["id", "ranker_version"], keep="last")
    frame = frame.sort_values(["ranker_version", "id"], kind="mergesort")
    columns = {
        "id": _values(frame, "id", str),
        "ranker_version": _values(frame, "ranker_version", str),
        "source": _values(frame, "source", str),
        "score": _values(frame, "score", float),
        "n_words": _values(frame, "n_words", lambda v: int(round(float(v)))),
        "ttr": _values(frame, "ttr", float),
        "mtld": _values(frame, "mtld", float),
        "perplexity": _values(frame, "perplexity", float),
        "scored_at": _values(frame, "scored_at", _utc),
        "score_precision": _values(frame, "score_precision", str),
    }
    for name in ("id", "ranker_version", "source", "score"):
        bad = [pid for pid, v in zip(columns["id"], columns[name], strict=True) if v is None]
        if bad:
            raise ValueError(f"{len(bad)} rows have no {name} (first pair ids: {bad[:3]})")
    infinite = [p for p, s in zip(columns["id"], columns["score"], strict=True) if math.isinf(s)]
    if infinite:
        raise ValueError(f"scores must be finite; first pair ids: {infinite[:3]}")
    now = datetime.now(UTC)
    columns["scored_at"] = [v or now for v in columns["scored_at"]]
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _score_frame(rows: Sequence[Any]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(SCORE_COLUMNS))
    frame = frame.astype(
        {
            "id": "str",
            "ranker_version": "str",
            "source": "str",
            "score": "float64",
            "n_words": "Int64",
            "ttr": "float64",
            "mtld": "float64",
            "perplexity": "float64",
            "score_precision": "object",
        }
    )
    frame["scored_at"] = pd.to_datetime(frame["scored_at"], utc=True)
    return frame


# ---------------------------------------------------------------- scored_pairs


def _upsert_statement(dialect: str, table: Table, keys: Sequence[str]) -> Any | None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` for SQLite/PostgreSQL, else None."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        return None
    stmt = dialect_insert(table)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)


def _upsert(conn: Connection, table: Table, keys: Sequence[str], rows: list[dict]) -> None:
    stmt = _upsert_statement(conn.dialect.name, table, keys)
    for chunk in _chunks(rows, CHUNK_ROWS):
        if stmt is None:  # portable fallback: delete the keys, then insert
            where = [table.c[k] == bindparam(f"key_{k}") for k in keys]
            params = [{f"key_{k}": row[k] for k in keys} for row in chunk]
            conn.execute(delete(table).where(*where), params)
            conn.execute(insert(table), list(chunk))
        else:
            conn.execute(stmt, list(chunk))


@_masked_errors
def upsert_scores(engine: Engine, frame: pd.DataFrame) -> int:
    """Insert or update score rows keyed by (id, ranker_version), in one transaction.

    Needs ``id, ranker_version, source, score``; ``n_words, ttr, mtld, perplexity``,
    ``score_precision`` and ``scored_at`` (default: now, UTC) are optional.
    Repeated keys keep the last row.
    Returns the number of rows written.
    """
    rows = _score_rows(frame)
    if not rows:
        return 0
    with _write(engine) as conn:
        _upsert(conn, scored_pairs, ("id", "ranker_version"), rows)
    return len(rows)


@_masked_errors
def already_scored(
    engine: Engine,
    ranker_version: str,
    pair_ids: Iterable[str],
    score_precision: str | None = None,
) -> set[str]:
    """The subset of ``pair_ids`` that already has a score from ``ranker_version``.

    With ``score_precision`` (e.g. ``"cpu/bfloat16"``) only scores made with it count, so a
    change of device or dtype re-scores (and overwrites) instead of mixing precisions.
    """
    ids = sorted({str(i) for i in pair_ids})
    found: set[str] = set()
    col = scored_pairs.c
    where = [col.ranker_version == ranker_version]
    if score_precision is not None:
        where.append(col.score_precision == score_precision)
    with engine.connect() as conn:
        for chunk in _chunks(ids, CHUNK_IDS):
            stmt = select(col.id).where(*where, col.id.in_(list(chunk)))
            found.update(conn.execute(stmt).scalars())
    return found


@_masked_errors
def read_scores(
    engine: Engine, ranker_version: str, sources: Iterable[str] | None = None
) -> pd.DataFrame:
    """Scores and style features of one ranker version (no texts), sorted by id."""
    col = scored_pairs.c
    base = select(*scored_pairs.columns).where(col.ranker_version == ranker_version)
    if sources is None:
        statements = [base]
    else:
        wanted = sorted({str(s) for s in sources})
        statements = [base.where(col.source.in_(list(c))) for c in _chunks(wanted, CHUNK_IDS)]
    rows: list[Any] = []
    with engine.connect() as conn:
        for stmt in statements:
            rows.extend(conn.execute(stmt).all())
    frame = _score_frame(rows)
    return frame.sort_values("id", kind="mergesort", ignore_index=True)


# ---------------------------------------------------------------- selector_scores


@_masked_errors
def upsert_selector_scores(
    engine: Engine, selector: str, selector_version: str, frame: pd.DataFrame
) -> int:
    """Insert or update one selector version's scores (``id, source, score``), in one
    transaction; returns the rows written. Scores must be finite."""
    _require(frame, ("id", "source", "score"), "upsert_selector_scores")
    frame = frame.drop_duplicates(subset=["id"], keep="last").sort_values("id", kind="mergesort")
    scores = [float(v) for v in frame["score"].tolist()]
    if not all(math.isfinite(v) for v in scores):
        raise ValueError(f"selector {selector}: scores must be finite numbers")
    now = datetime.now(UTC)
    rows = [
        {
            "id": str(pair_id),
            "selector_version": selector_version,
            "selector": selector,
            "source": str(source),
            "score": score,
            "scored_at": now,
        }
        for pair_id, source, score in zip(frame["id"], frame["source"], scores, strict=True)
    ]
    if rows:
        with _write(engine) as conn:
            _upsert(conn, selector_scores, ("id", "selector_version"), rows)
    return len(rows)


@_masked_errors
def read_selector_scores(engine: Engine, selector_version: str) -> pd.DataFrame:
    """``id, source, score`` of one selector version, sorted by id."""
    col = selector_scores.c
    stmt = select(col.id, col.source, col.score).where(col.selector_version == selector_version)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt).all()]
    frame = pd.DataFrame(rows, columns=["id", "source", "score"])
    frame = frame.astype({"id": "str", "source": "str", "score": "float64"})
    return frame.sort_values("id", kind="mergesort", ignore_index=True)


# ---------------------------------------------------------------- selection decisions


def _decision_rows(
    frames: Iterable[pd.DataFrame], version: str, at: datetime, selected: list[int]
) -> Iterator[list[dict[str, Any]]]:
    """Insert rows of ``frames`` (read one at a time), ``CHUNK_ROWS`` at a time (a million
    decisions as dicts at once would cost ~1 GB); ``selected[0]`` counts the selected rows."""
    for frame in frames:
        _require(frame, ("id", "source", "selected", "reason"), "write_decisions")
        selected[0] += int(frame["selected"].fillna(False).astype(bool).sum())
        for start in range(0, len(frame), CHUNK_ROWS):
            part = frame.iloc[start : start + CHUNK_ROWS]
            columns = {
                "subset_version": [version] * len(part),
                "id": _values(part, "id", str),
                "source": _values(part, "source", str),
                "selected": _values(part, "selected", bool),
                "reason": _values(part, "reason", str),
                "rank": _values(part, "rank", int),
                "score": _values(part, "score", float),
                "related_id": _values(part, "related_id", str),
                "decided_at": [at] * len(part),
            }
            names = list(columns)
            yield [
                dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)
            ]


def _repeated_ids(frames: Iterable[pd.DataFrame]) -> list[str]:
    """Pair ids in more than one row of ``frames`` (for the error message only)."""
    ids = pd.concat([frame["id"].astype(str) for frame in frames], ignore_index=True)
    return ids[ids.duplicated()].drop_duplicates().tolist()


@_masked_errors
def write_decisions(
    engine: Engine,
    subset_version: str,
    decisions: pd.DataFrame | Iterable[pd.DataFrame],
    meta: Mapping[str, Any],
) -> int:
    """Replace all decisions of ``subset_version`` (and its subset_versions row) atomically.

    ``decisions`` (a frame, or frames, e.g. a generator, written one after another without
    being concatenated or held together) has ``DECISION_COLUMNS`` (id, source,
    selected, reason, rank, score, related_id). A pair id in two rows
    raises ``ValueError`` and writes nothing (the table's primary key finds it, so no set
    of every id is held here). ``meta`` needs ``ranker_version`` and may hold ``config`` (a
    JSON-serialisable mapping or a JSON string) and ``created_at``. Returns rows written.
    """
    if not isinstance(subset_version, str) or not subset_version:
        raise ValueError(f"subset_version must be a non-empty string, got {subset_version!r}")
    if not meta.get("ranker_version"):
        raise ValueError("meta needs a 'ranker_version'")
    created_at = _utc(meta["created_at"]) if meta.get("created_at") else datetime.now(UTC)
    config = meta.get("config", {})
    if not isinstance(config, str):
        config = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    frames = [decisions] if isinstance(decisions, pd.DataFrame) else decisions
    selected = [0]
    chunks = _decision_rows(frames, subset_version, created_at, selected)
    first = next(chunks, [])  # validates the first frame before anything is written
    version_row = {
        "subset_version": subset_version,
        "created_at": created_at,
        "n_selected": 0,  # counted while the decisions are written, set at the end
        "ranker_version": str(meta["ranker_version"]),
        "config_json": config,
    }
    written = 0
    try:
        with _write(engine) as conn:
            # The version row first: on PostgreSQL its row lock serialises writers of a version.
            _upsert(conn, subset_versions, ("subset_version",), [version_row])
            table = selection_decisions
            conn.execute(delete(table).where(table.c.subset_version == subset_version))
            for chunk in itertools.chain([first], chunks):
                if chunk:
                    conn.execute(insert(table), chunk)
                    written += len(chunk)
            versions = subset_versions.c
            conn.execute(
                update(subset_versions)
                .where(versions.subset_version == subset_version)
                .values(n_selected=selected[0])
            )
    except exc.IntegrityError as error:
        if isinstance(frames, Iterator):  # read once: the frames cannot be looked at again
            detail = str(getattr(error, "orig", None) or error).strip()
            raise ValueError(
                "decisions must have one row per pair id and a source, selected and reason "
                f"in every row: {detail}"
            ) from None
        repeated = _repeated_ids(frames)
        if not repeated:
            raise
        raise ValueError(
            f"decisions must have one row per pair id; repeated: {repeated[:3]}"
        ) from None
    return written


@_masked_errors
def read_decisions(
    engine: Engine, subset_version: str, *, selected_only: bool = False
) -> pd.DataFrame:
    """All decisions of one subset version (only its selected rows with ``selected_only``),
    eligible rows by rank first, then by id."""
    table = selection_decisions
    stmt = select(*(table.c[name] for name in DECISION_COLUMNS)).where(
        table.c.subset_version == subset_version
    )
    if selected_only:
        stmt = stmt.where(table.c.selected.is_(True))
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt).all()]
    frame = pd.DataFrame(rows, columns=list(DECISION_COLUMNS)).astype(
        {
            "id": "str",
            "source": "str",
            "selected": "bool",
            "reason": "str",
            "rank": "Int64",
            "score": "float64",
            "related_id": "object",
        }
    )
    frame["related_id"] = frame["related_id"].where(frame["related_id"].notna(), None)
    return frame.sort_values(
        ["rank", "id"], na_position="last", kind="mergesort", ignore_index=True
    )


@_masked_errors
def list_subset_versions(engine: Engine) -> pd.DataFrame:
    """All subset versions, oldest first."""
    table = subset_versions
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(*table.columns)).all()]
    frame = pd.DataFrame(rows, columns=[c.name for c in table.columns])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame.sort_values(["created_at", "subset_version"], ignore_index=True)


@_masked_errors
def explain(engine: Engine, pair_id: str, subset_version: str | None = None) -> dict[str, Any]:
    """Why a pair was (not) selected: reason, rank, score, related_id, selected.

    Uses the newest subset version holding the pair when ``subset_version`` is None.
    Raises UnknownPairError (a KeyError) when there is no such decision.
    """
    d, v = selection_decisions, subset_versions
    stmt = (
        select(d, v.c.created_at, v.c.ranker_version)
        .join(v, d.c.subset_version == v.c.subset_version)
        .where(d.c.id == pair_id)
    )
    if subset_version is not None:
        stmt = stmt.where(d.c.subset_version == subset_version)
    stmt = stmt.order_by(v.c.created_at.desc(), d.c.subset_version.desc()).limit(1)
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    if row is None:
        where = f" in subset version {subset_version!r}" if subset_version is not None else ""
        raise UnknownPairError(f"no selection decision for pair {pair_id!r}{where}")
    keys = ("id", "subset_version", "ranker_version", "source", "selected", "reason")
    result = {key: row[key] for key in keys}
    result.update(rank=row["rank"], score=row["score"], related_id=row["related_id"])
    result["decided_at"] = _utc(row["decided_at"])
    return result


# ---------------------------------------------------------------- surprisal scores


@_masked_errors
def upsert_surprisal(engine: Engine, frame: pd.DataFrame) -> int:
    """Insert or update perplexity rows keyed by (id, model_version, kind), in one transaction.

    Needs ``id, model_version, kind, truncated``; ``perplexity`` may be missing (NaN: the
    response had no token to score) and ``computed_at`` defaults to now (UTC). Repeated keys
    keep the last row. Returns the number of rows written.
    """
    _require(frame, ("id", "model_version", "kind", "truncated"), "upsert_surprisal")
    keys = ["id", "model_version", "kind"]
    frame = frame.drop_duplicates(subset=keys, keep="last")
    columns = {
        "id": _values(frame, "id", str),
        "model_version": _values(frame, "model_version", str),
        "kind": _values(frame, "kind", str),
        "perplexity": _values(frame, "perplexity", float),
        "truncated": _values(frame, "truncated", bool),
        "computed_at": _values(frame, "computed_at", _utc),
    }
    for name in ("id", "model_version", "kind", "truncated"):
        if any(value is None for value in columns[name]):
            raise ValueError(f"upsert_surprisal: every row needs a {name}")
    now = datetime.now(UTC)
    columns["computed_at"] = [v or now for v in columns["computed_at"]]
    names = list(columns)
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    if rows:
        with _write(engine) as conn:
            _upsert(conn, surprisal_scores, keys, rows)
    return len(rows)


@_masked_errors
def read_surprisal(
    engine: Engine, model_version: str, kind: str, ids: Iterable[str]
) -> pd.DataFrame:
    """The stored ``id, perplexity, truncated`` of ``ids`` for one LM version and kind (ids
    without a row are absent), sorted by id."""
    wanted = sorted({str(i) for i in ids})
    col = surprisal_scores.c
    rows: list[Any] = []
    with engine.connect() as conn:
        for chunk in _chunks(wanted, CHUNK_IDS):
            stmt = select(col.id, col.perplexity, col.truncated).where(
                col.model_version == model_version, col.kind == kind, col.id.in_(list(chunk))
            )
            rows.extend(tuple(row) for row in conn.execute(stmt).all())
    frame = pd.DataFrame(rows, columns=list(SURPRISAL_COLUMNS))
    frame = frame.astype({"id": "str", "perplexity": "float64", "truncated": "bool"})
    return frame.sort_values("id", kind="mergesort", ignore_index=True)
