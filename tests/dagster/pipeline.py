"""Moved to ``tests/pipeline.py``; tests/e2e/conftest.py still imports these two from here."""

from tests.pipeline import write_landing, write_quadruples  # noqa: F401
