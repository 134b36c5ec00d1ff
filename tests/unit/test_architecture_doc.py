"""docs/architecture.md lists every module with one line, and nothing that is gone.

The module list is a heading per folder (``### `scar_dagster/selection/` ``) followed by one
bullet per module (``- `pool.py`: ...``); package ``__init__``/``__main__`` files are not listed.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
CODE_FOLDERS = ("scar_dagster", "assets")
HEADING = re.compile(r"^### `([\w/]+/)`")
ENTRY = re.compile(r"^- `([\w.]+\.py)`: \S")


def modules_on_disk() -> set[str]:
    """Every module of the library, the code location and the repository root, by path."""
    found = {p.name for p in ROOT.glob("*.py")}
    for folder in CODE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if path.name not in ("__init__.py", "__main__.py"):
                found.add(path.relative_to(ROOT).as_posix())
    return found


def modules_listed(text: str) -> set[str]:
    """The modules the doc lists, by path (``./`` heading: the repository root)."""
    listed: set[str] = set()
    folder: str | None = None
    for line in text.splitlines():
        if heading := HEADING.match(line):
            folder = heading.group(1)
        elif line.startswith("#"):
            folder = None
        elif folder and (entry := ENTRY.match(line)):
            listed.add(entry.group(1) if folder == "./" else folder + entry.group(1))
    return listed


def test_every_module_is_listed_once_and_every_listed_module_exists() -> None:
    on_disk, listed = modules_on_disk(), modules_listed(DOC.read_text())
    assert not on_disk - listed, f"modules missing from {DOC.name}: {sorted(on_disk - listed)}"
    assert not listed - on_disk, (
        f"{DOC.name} lists modules that do not exist: {sorted(listed - on_disk)}"
    )


def test_the_parser_reads_headings_and_entries() -> None:
    text = "### `scar_dagster/x/`\n- `a.py`: one line\n- `b.py` no colon\n## other\n- `c.py`: x\n"
    assert modules_listed(text) == {"scar_dagster/x/a.py"}
