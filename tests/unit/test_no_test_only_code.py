"""No library code kept alive only by tests: every top-level function and class of
``scar_dagster/`` is used by the product (the library itself, the code location, the scripts,
the benchmarks) or is public API re-exported by a package ``__init__``.

The check is by name over the source text (a word match outside the defining line), so a name
used through ``getattr`` or a string must be re-exported to count; a test oracle belongs in
``tests/``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "scar_dagster"
PRODUCT = [PACKAGE, ROOT / "assets", ROOT / "scripts", ROOT / "benchmarks"]
PRODUCT_FILES = [ROOT / "definitions.py", ROOT / "settings.py"]


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


def test_every_library_function_is_used_outside_tests() -> None:
    sources = _sources()
    public = _reexported(sources)
    unused = []
    for path, source in sources.items():
        if PACKAGE not in path.parents or path.name == "__init__.py":
            continue
        for name, line in top_level_names(source):
            if name.startswith("__") or name in public:
                continue
            word = re.compile(rf"\b{re.escape(name)}\b")
            uses = sum(
                len(word.findall(text)) for other, text in sources.items() if other != path
            )
            own = [n for i, n in enumerate(source.splitlines(), 1) if i != line and word.search(n)]
            if not uses and not own:
                unused.append(f"{path.relative_to(ROOT)}:{line} {name}")
    assert not unused, "library code used only by tests (or by nothing):\n" + "\n".join(unused)


def test_the_check_finds_an_unused_function(tmp_path: Path) -> None:
    source = "def used():\n    return 1\n\n\ndef unused():\n    return used()\n"
    names = dict(top_level_names(source))
    assert names == {"used": 1, "unused": 5}
