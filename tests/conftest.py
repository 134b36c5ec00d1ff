"""Shared pytest fixtures."""

import os

import pytest

# Steps that fail for good retry (scar_dagster.dagster.retries); keep those retries quick in tests.
# Read when scar_dagster.dagster.retries is first imported, i.e. after this line.
os.environ.setdefault("SCAR_RETRY_DELAY_SECONDS", "0.05")

if __package__:  # tests/ is a package
    from .llm_server import llm_server  # noqa: F401
    from .moto_server import s3, s3_endpoint  # noqa: F401
    from .postgres_server import postgres_url  # noqa: F401
else:  # rootdir-style imports: tests/ itself is on sys.path
    from llm_server import llm_server  # noqa: F401
    from moto_server import s3, s3_endpoint  # noqa: F401
    from postgres_server import postgres_url  # noqa: F401


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module's models: on a shared 2-core machine, two OpenMP threads
    competing with another busy process can make a forward pass 20x slower."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture()
def engine(tmp_path):
    """A SQLite database with the project's tables, in the test's folder (a module's own
    ``engine`` fixture, e.g. one seeded or on PostgreSQL, takes its place there)."""
    from scar_dagster.storage import tables

    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'scar.db'}")
    tables.ensure_schema(engine)
    yield engine
    engine.dispose()
