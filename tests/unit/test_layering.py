"""Layering: only scar_dagster/dagster/ may import Dagster, nothing imports dagster._ APIs, no
module of scar_dagster imports another's private names, and its modules import no cycle.

The check is static (every ``import``, ``from ... import``, also inside functions, and every
``importlib.import_module("...")`` / ``__import__("...")`` with a literal name), so a lazy import
deep in a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator, Mapping
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "scar_dagster"
DAGSTER_LAYER = PACKAGE / "dagster"
REPO_CODE = ("scar_dagster", "assets", "tests", "scripts", "benchmarks")
REPO_FILES = ("definitions.py", "settings.py")


def module_name(path: Path) -> str:
    """Dotted module name of a file under the repository root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_statements(
    source: str, module: str = "", is_package: bool = False
) -> Iterator[tuple[str, list[str]]]:
    """``(module, names)`` of every import in ``source``, anywhere in it (``names`` empty for
    ``import m``); relative imports resolved against ``module``.

    Dynamic imports count when the name is a string literal (``importlib.import_module("x")``,
    ``import_module("x")``, ``__import__``).
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base, [alias.name for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in ("import_module", "__import__") and literal:
                yield first.value, []


def imported_names(source: str, module: str = "", is_package: bool = False) -> Iterator[str]:
    """Every module name ``source`` imports, anywhere in it; ``from m import a`` gives ``m.a``."""
    for base, names in import_statements(source, module, is_package):
        yield base
        yield from (f"{base}.{name}" for name in names)


Sources = Mapping[str, tuple[str, bool]]  # module name -> (source, is a package __init__)


def import_graph(sources: Sources) -> dict[str, set[str]]:
    """Which of ``sources``' modules each one imports, anywhere in it (lazy imports too).

    ``from p import m`` of a submodule ``m`` is an edge to ``p.m`` alone, so a package that
    re-exports its submodules' names in ``__init__`` is no cycle; ``from p import name`` of
    any other name is an edge to ``p`` (its ``__init__``).
    """
    graph: dict[str, set[str]] = {}
    for module, (source, is_package) in sorted(sources.items()):
        edges: set[str] = set()
        for base, names in import_statements(source, module, is_package):
            submodules = {f"{base}.{name}" for name in names} & sources.keys()
            edges |= submodules
            if len(submodules) < len(names) or not names:
                edges |= {base} & sources.keys()
        graph[module] = edges - {module}
    return graph


def import_cycle(graph: Mapping[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as ``[a, b, ..., a]`` (each imports the next), or ``[]``."""
    try:
        TopologicalSorter({node: sorted(edges) for node, edges in sorted(graph.items())}).prepare()
    except CycleError as error:
        return list(reversed(error.args[1]))
    return []


def package_graph(graph: Mapping[str, set[str]], sources: Sources) -> dict[str, set[str]]:
    """``graph`` between packages: a module counts as its package (a module at the top of the
    root package, e.g. ``scar_dagster.cli``, as itself)."""
    top = min(sources, key=len)

    def package(module: str) -> str:
        parent = module.rpartition(".")[0]
        return module if sources[module][1] or parent == top else parent

    packages: dict[str, set[str]] = {}
    for module, edges in graph.items():
        packages.setdefault(package(module), set()).update(package(e) for e in edges)
    return {name: edges - {name} for name, edges in packages.items()}


def package_sources(package: Path, root: Path = ROOT) -> dict[str, tuple[str, bool]]:
    """Every module under the folder ``package``, named from ``root``, with its source."""
    return {
        ".".join(path.relative_to(root).with_suffix("").parts[:-1])
        if path.name == "__init__.py"
        else ".".join(path.relative_to(root).with_suffix("").parts): (
            path.read_text(),
            path.name == "__init__.py",
        )
        for path in sorted(package.rglob("*.py"))
    }


def is_dagster(name: str) -> bool:
    """True for dagster, dagster_aws, any dagster_* package, and this repo's Dagster layer."""
    root = name.split(".")[0]
    return (
        root == "dagster" or root.startswith("dagster_") or name.startswith("scar_dagster.dagster")
    )


def is_private_dagster(name: str) -> bool:
    """True for ``dagster._core...``, ``dagster_aws._x``, ``from dagster import _check``."""
    parts = name.split(".")
    root = parts[0]
    return (root == "dagster" or root.startswith("dagster_")) and any(
        part.startswith("_") for part in parts[1:]
    )


def plain_modules() -> list[Path]:
    """Every module of scar_dagster outside its Dagster layer."""
    return sorted(p for p in PACKAGE.rglob("*.py") if DAGSTER_LAYER not in p.parents)


def repo_modules() -> list[Path]:
    files = [p for folder in REPO_CODE for p in (ROOT / folder).rglob("*.py")]
    return sorted([*files, *(ROOT / name for name in REPO_FILES)])


def _imports_of(path: Path) -> list[str]:
    return list(imported_names(path.read_text(), module_name(path), path.name == "__init__.py"))


def test_the_scan_covers_every_plain_subpackage_and_module():
    names = {module_name(p) for p in plain_modules()}
    subpackages = {p.parent.name for p in plain_modules() if p.name == "__init__.py"}
    assert {"ingest", "style", "ranker", "selection", "quality", "storage"} <= subpackages
    assert {"finetune", "evaluation", "scar_dagster"} <= subpackages
    assert {"scar_dagster.schema", "scar_dagster.base_models", "scar_dagster.plots"} <= names
    assert not any(name.startswith("scar_dagster.dagster") for name in names)


@pytest.mark.parametrize("path", plain_modules(), ids=lambda p: module_name(p))
def test_plain_module_never_imports_dagster(path: Path):
    offending = [name for name in _imports_of(path) if is_dagster(name)]
    assert not offending, f"{module_name(path)} imports {offending}: move that code to the layer"


def test_no_module_in_the_repo_imports_private_dagster_apis():
    offending = {
        str(path.relative_to(ROOT)): names
        for path in repo_modules()
        if (names := [name for name in _imports_of(path) if is_private_dagster(name)])
    }
    assert not offending, f"private dagster._ imports: {offending}"


def test_importing_every_plain_module_loads_no_dagster():
    names = [module_name(p) for p in plain_modules() if p.name != "__main__.py"]
    code = (
        f"import importlib, sys\nfor name in {names!r}:\n    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('dagster')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "source",
    [
        "import dagster",
        "import dagster_aws.s3 as s3",
        "from dagster_aws.s3.sensor import get_objects",
        "def f():\n    from dagster import asset\n",
        "import importlib\nimportlib.import_module('dagster_pandas')",
        "from importlib import import_module\ndef f():\n    import_module('dagster')",
        "__import__('dagster')",
        "from scar_dagster.dagster.resources import StorageResource",
        "from ..dagster import resources",
    ],
)
def test_the_check_flags_every_import_form(source: str):
    names = imported_names(source, "scar_dagster.storage.stores")
    assert any(is_dagster(name) for name in names), list(names)


@pytest.mark.parametrize(
    "source, private",
    [
        ("from dagster._core.storage.upath_io_manager import UPathIOManager", True),
        ("from dagster import _check", True),
        ("import dagster_aws._internal", True),
        ("importlib.import_module('dagster._core')", True),
        ("from dagster import UPathIOManager", False),
        ("import dagster_aws.s3", False),
    ],
)
def test_the_check_flags_private_dagster_imports(source: str, private: bool):
    assert any(is_private_dagster(n) for n in imported_names(source)) is private


def test_no_import_cycle_between_modules_of_the_package():
    cycle = import_cycle(import_graph(package_sources(PACKAGE)))
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_no_import_cycle_between_packages():
    sources = package_sources(PACKAGE)
    cycle = import_cycle(package_graph(import_graph(sources), sources))
    assert not cycle, "import cycle between packages: " + " -> ".join(cycle)


def test_the_package_check_catches_a_cycle_no_module_has(tmp_path: Path):
    files = {
        "__init__.py": "",
        "cli.py": "from pkg.evaluation.accuracy import score\n",
        "evaluation/__init__.py": "",
        "evaluation/accuracy.py": "score = 1\n",
        "evaluation/cli.py": "from pkg.cli import main\n",
    }
    for name, source in files.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(source)
    sources = package_sources(tmp_path / "pkg", root=tmp_path)
    graph = import_graph(sources)
    assert import_cycle(graph) == []
    assert set(import_cycle(package_graph(graph, sources))) == {"pkg.cli", "pkg.evaluation"}


@pytest.mark.parametrize(
    "files, cycle",
    [
        # a -> b -> a, the import of a hidden in a function: a cycle
        (
            {
                "__init__.py": "",
                "a.py": "from pkg import b\n",
                "b.py": "def f():\n    import pkg.a\n",
            },
            ["pkg.a", "pkg.b", "pkg.a"],
        ),
        # relative imports and importlib count too
        (
            {
                "__init__.py": "",
                "a.py": "from .b import thing\n",
                "b.py": "from .c import other\n",
                "c.py": "import importlib\nimportlib.import_module('pkg.a')\n",
            },
            ["pkg.a", "pkg.b", "pkg.c", "pkg.a"],
        ),
        # a module importing a name its own package re-exports from it: a cycle
        (
            {"__init__.py": "from pkg.a import x as x\n", "a.py": "from pkg import x\nx = 1\n"},
            ["pkg", "pkg.a", "pkg"],
        ),
        # a package re-exporting its submodules' names in __init__: no cycle
        (
            {
                "__init__.py": "from pkg.a import x as x\nfrom pkg import b\n",
                "a.py": "from pkg.b import y\nx = y\n",
                "b.py": "y = 1\n",
            },
            [],
        ),
    ],
    ids=["lazy", "relative-and-importlib", "own-package-name", "re-export"],
)
def test_the_cycle_check_catches_a_planted_cycle(tmp_path: Path, files: dict, cycle: list):
    package = tmp_path / "pkg"
    package.mkdir()
    for name, source in files.items():
        (package / name).write_text(source)
    found = import_cycle(import_graph(package_sources(package, root=tmp_path)))
    if not cycle:
        assert found == []
    else:  # the same cycle, whichever module it is reported from
        assert found[0] == found[-1] and set(found) == set(cycle) and len(found) == len(cycle)


def test_no_module_imports_private_names_of_another():
    sources = package_sources(PACKAGE)
    offending = {
        module: private
        for module, (source, is_package) in sources.items()
        if (
            private := [
                f"{base}.{name}"
                for base, names in import_statements(source, module, is_package)
                if base.startswith("scar_dagster") and base != module
                for name in names
                if name.startswith("_")
            ]
        )
    }
    assert not offending, f"private names imported across modules: {offending}"


def test_plain_code_may_import_plain_code():
    names = list(imported_names("import pandas\nfrom scar_dagster.storage import tables"))
    assert not any(is_dagster(name) for name in names)


def test_tests_import_helpers_from_helper_modules_not_from_conftest_or_tests():
    paths = list((ROOT / "tests").rglob("*.py"))
    offending = {
        str(path.relative_to(ROOT)): names
        for path in paths
        if (
            names := [
                name
                for name in _imports_of(path)
                if name.startswith("tests.")
                and any(part == "conftest" or part.startswith("test_") for part in name.split("."))
            ]
        )
    }
    assert not offending, f"import helpers from tests/*.py helper modules: {offending}"
