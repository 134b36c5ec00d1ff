"""Fixtures of the e2e suite: a running ``dagster dev`` and chromium (helpers: ``harness.py``)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import CHROMIUM, HERE, DagsterDev, prepare_home, running_dagster_dev


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests under tests/e2e as ``e2e`` and run them after every other test."""
    e2e = [item for item in items if HERE in Path(str(item.fspath)).resolve().parents]
    for item in e2e:
        item.add_marker(pytest.mark.e2e)
    rest = [item for item in items if item not in e2e]
    items[:] = rest + e2e


@pytest.fixture(scope="session")
def e2e_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The e2e test's output dir (logs, screenshots); kept by pytest's tmp_path retention."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def dagster_dev(e2e_root: Path) -> Iterator[DagsterDev]:
    """``dagster dev`` with a fresh instance, storage and the planted landing zone."""
    with running_dagster_dev(e2e_root, prepare_home(e2e_root)) as server:
        yield server


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's headless chromium; `make test` installs it when missing and root."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: `make test` installs it when run as root")
    return CHROMIUM
