"""Heavy imports stay lazy: great_expectations loads only when a suite runs; quality/ is plain."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import scar_dagster.quality

QUALITY_DIR = Path(scar_dagster.quality.__file__).parent


def test_great_expectations_is_imported_lazily():
    code = (
        "import sys, scar_dagster.dagster.checks, scar_dagster.quality, "
        "scar_dagster.quality.expectations; "
        "assert 'great_expectations' not in sys.modules, 'great_expectations imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_quality_modules_never_import_dagster_or_gx_at_top_level():
    # static: the parent package may re-export the Dagster layer, so sys.modules would not tell
    for path in QUALITY_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # top-level statements only; lazy imports live inside functions
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                assert root not in {"dagster", "great_expectations"}, f"{path.name}: {name}"
