"""Layering: only scar_dagster/dagster/ may import Dagster, and nothing imports dagster._ APIs.

The check is static (every ``import``, ``from ... import``, also inside functions, and every
``importlib.import_module("...")`` / ``__import__("...")`` with a literal name), so a lazy import
deep in a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
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


def imported_names(source: str, module: str = "", is_package: bool = False) -> Iterator[str]:
    """Every module name ``source`` imports, anywhere in it; ``from m import a`` gives ``m.a``.

    Relative imports are resolved against ``module``. Dynamic imports count when the name is a
    string literal (``importlib.import_module("x")``, ``import_module("x")``, ``__import__``).
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in ("import_module", "__import__") and literal:
                yield first.value


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
    assert {"scar_dagster.schema", "scar_dagster.pretrained", "scar_dagster.plots"} <= names
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
