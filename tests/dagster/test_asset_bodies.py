"""Assets are glue: every asset (and asset check) body in ``assets/`` is at most 30 lines.

An asset computes with the library, then returns ``Output(metadata=...)`` built by a function
of ``scar_dagster/dagster/`` (as in dagster's ``project_fully_featured``); logic that grows past
that belongs in the library. A body is counted from its first statement after the docstring to
the end of its last statement; the functions counted are those decorated with an asset or check
decorator and those wrapped by one in a factory (``asset(...)(featurize_partition)``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ASSETS = Path(__file__).resolve().parents[2] / "assets"
MAX_BODY_LINES = 30
DECORATORS = {"asset", "multi_asset", "asset_check", "multi_asset_check", "graph_asset"}


def _name(node: ast.expr) -> str | None:
    """``asset`` for ``@asset``, ``@asset(...)``, ``@dg.asset`` and ``dg.asset(...)``."""
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)


def asset_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """The functions of a module that are asset or check bodies."""
    wrapped = {
        arg.id
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Call)
        if _name(call.func) in DECORATORS
        for arg in call.args
        if isinstance(arg, ast.Name)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.name in wrapped or any(_name(d) in DECORATORS for d in node.decorator_list))
    ]


def body_lines(function: ast.FunctionDef) -> int:
    """Source lines of the body, its docstring excluded."""
    body = function.body
    if ast.get_docstring(function) is not None:
        body = body[1:]
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def _bodies() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in sorted(ASSETS.rglob("*.py")):  # every module, sub-packages included
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = path.relative_to(ASSETS).as_posix()
        found += [(module, function) for function in asset_functions(tree)]
    return found


def test_the_counter_finds_decorated_and_factory_wrapped_bodies():
    source = '''
@asset(group_name="g")
def decorated(context):
    """Doc."""
    a = 1
    return a

def wrapped(context):
    return 1

def factory(shards):
    return asset(name="wrapped")(wrapped)

def helper():
    return 2
'''
    functions = {f.name: body_lines(f) for f in asset_functions(ast.parse(source))}
    assert functions == {"decorated": 2, "wrapped": 1}


def test_every_stage_has_asset_bodies_to_check():
    modules = {module for module, _ in _bodies()}
    stages = {"ingest", "features", "ranker", "scoring", "selection", "evaluation", "finetune"}
    assert {f"{stage}.py" for stage in stages} <= modules


@pytest.mark.parametrize(
    "module,function", [(m, f) for m, f in _bodies()], ids=lambda x: getattr(x, "name", x)
)
def test_asset_body_is_glue(module, function):
    lines = body_lines(function)
    assert lines <= MAX_BODY_LINES, (
        f"assets/{module}:{function.lineno} {function.name} has a {lines}-line body "
        f"(at most {MAX_BODY_LINES}): move logic to the library and metadata to "
        "scar_dagster/dagster/"
    )
