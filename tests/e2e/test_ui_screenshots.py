"""The running webserver renders the lineage and selected_subset pages in headless chromium."""

from pathlib import Path

import pytest

from scripts.screenshots import PAGES, capture, dismiss_nux, dump_dom
from tests.e2e.harness import DagsterDev

pytestmark = pytest.mark.e2e

EXPECTED_TEXT = {
    "ui-lineage.png": ["Global asset lineage", "selection", "finetune"],
    "ui-selected-subset.png": ["selected_subset", "selection_job", "Automation condition"],
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_renders_in_headless_chromium(
    name: str, dagster_dev: DagsterDev, chromium: str, e2e_root: Path
) -> None:
    """The page's DOM has its text and its screenshot is not blank (run after the scenario)."""
    dismiss_nux(dagster_dev.url)
    url = dagster_dev.url + PAGES[name]
    png = capture(url, e2e_root / "screenshots" / name)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 30_000, f"{png} is {len(data)} bytes: a blank page?"
    dom = dump_dom(url)
    missing = [text for text in EXPECTED_TEXT[name] if text not in dom]
    assert not missing, f"{url} lacks {missing}; see {png}"
    assert "Join the Dagster community" not in dom
