"""No library code kept alive only by tests: every top-level function and class of
``scar_dagster/`` is used by the product (the library itself, the code location, the scripts,
the benchmarks) or is public API re-exported by a package ``__init__``.

The check is by identifier (names, attributes, imports; not strings, comments or docstrings,
and not a definition's references to itself), so a name used only through ``getattr`` or a
string must be re-exported to count; a test oracle belongs in ``tests/``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "scar_dagster"
PRODUCT = [PACKAGE, ROOT / "assets", ROOT / "scripts", ROOT / "benchmarks"]
PRODUCT_FILES = sorted(ROOT.glob("*.py"))  # definitions.py, settings.py, celery_worker.py


def _sources() -> dict[Path, str]:
    files = [p for folder in PRODUCT for p in folder.rglob("*.py")] + PRODUCT_FILES
    return {path: path.read_text() for path in files}


def top_level_names(source: str) -> list[tuple[str, int]]:
    """``(name, line)`` of every top-level function and class of a module."""
    tree = ast.parse(source)
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return [(node.name, node.lineno) for node in tree.body if isinstance(node, kinds)]


def _reexported(sources: dict[Path, str]) -> set[str]:
    """Names a package ``__init__`` re-exports (``from x import n as n`` or an export table)."""
    names: set[str] = set()
    for path, source in sources.items():
        if path.name == "__init__.py" and PACKAGE in path.parents:
            names.update(re.findall(r"\b(\w+) as \1\b", source))
            names.update(re.findall(r'^\s*"(\w+)":\s*"[\w.]+",?$', source, flags=re.M))
    return names


def used_names(source: str, skip: str | None = None) -> set[str]:
    """Identifiers a module reads: names, attributes and imported names (not strings or
    comments); references inside the top-level definition ``skip`` do not count."""
    tree = ast.parse(source)
    nodes = [n for n in tree.body if skip is None or getattr(n, "name", None) != skip]
    names: set[str] = set()
    for node in (sub for top in nodes for sub in ast.walk(top)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names)
    return names


def test_every_library_function_is_used_outside_tests() -> None:
    sources = _sources()
    public = _reexported(sources)
    elsewhere = {path: used_names(text) for path, text in sources.items()}
    unused = []
    for path, source in sources.items():
        if PACKAGE not in path.parents or path.name == "__init__.py":
            continue
        for name, line in top_level_names(source):
            if name.startswith("__") or name in public:
                continue
            if name in used_names(source, skip=name):
                continue
            if not any(name in names for other, names in elsewhere.items() if other != path):
                unused.append(f"{path.relative_to(ROOT)}:{line} {name}")
    assert not unused, "library code used only by tests (or by nothing):\n" + "\n".join(unused)


def test_the_check_finds_an_unused_function() -> None:
    source = (
        "def used():\n    return 1\n\n\n"
        'def unused():\n    """Not used(), only named."""\n    return unused() + used()\n'
    )
    assert dict(top_level_names(source)) == {"used": 1, "unused": 5}
    assert "used" in used_names(source, skip="used")  # read by ``unused``
    assert "unused" not in used_names(source, skip="unused")  # only by itself and a docstring
    assert "read" in used_names("from m import read\n")  # an import counts as a use
