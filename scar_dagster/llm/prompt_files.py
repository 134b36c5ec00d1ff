"""Read the four prompt templates from a TOML file or a folder of text files.

TOML (one table per template; ``system`` optional, omit it for no system message)::

    [direct]
    user = "{instruction}"
    system = "You are a helpful assistant."

    [referenced]
    user = '''... {reference_answer} ... {instruction} ...'''

    [helpfulness]
    user = '''... {PROBLEM} ... {OUTPUT} ...'''

    [correctness]
    user = '''...'''

A folder holds ``direct.txt``, ``referenced.txt``, ``helpfulness.txt`` and ``correctness.txt``
(the user messages, read as they are) and optionally ``<name>.system.txt``. All four templates
are required; a missing one, an unknown table, key or ``.txt`` file, an empty message or an
unknown placeholder is a :class:`~scar_dagster.llm.prompts.PromptError` naming the file.
``data/ranker/prompts/toolkit_structure.toml`` is an example in the SCAR toolkit's structure.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from scar_dagster.llm.prompts import TEMPLATE_NAMES, PromptError, PromptSet, PromptTemplate

_KEYS = ("user", "system")
_NEEDED = ", ".join(TEMPLATE_NAMES)


def load_prompts(path: str | Path) -> PromptSet:
    """The :class:`PromptSet` in a ``.toml`` file or a folder of ``<name>.txt`` files."""
    location = Path(path)
    if location.is_dir():
        templates = _from_folder(location)
    elif location.is_file():
        templates = _from_toml(location)
    else:
        raise PromptError(f"prompts_path {location}: no such file or folder")
    try:
        return PromptSet(**templates, origin=str(location))
    except PromptError as error:
        raise PromptError(f"{location}: {error}") from None


def _from_toml(path: Path) -> dict[str, PromptTemplate]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PromptError(f"{path}: not a valid UTF-8 TOML file ({error})") from error
    unknown = sorted(set(document) - set(TEMPLATE_NAMES))
    if unknown:
        raise PromptError(f"{path}: unknown table(s) {unknown}; the templates are {_NEEDED}")
    templates = {}
    for name in TEMPLATE_NAMES:
        table = document.get(name)
        if table is None:
            raise PromptError(f"{path}: missing template [{name}] (need {_NEEDED})")
        if not isinstance(table, dict):
            raise PromptError(f"{path}: [{name}] must be a table with user (and system)")
        extra = sorted(set(table) - set(_KEYS))
        if extra:
            raise PromptError(f"{path}: [{name}] has unknown key(s) {extra}; use user, system")
        for key in _KEYS:
            if key in table and not isinstance(table[key], str):
                raise PromptError(f"{path}: [{name}].{key} must be a string")
        if "user" not in table:
            raise PromptError(f"{path}: [{name}] has no user message")
        templates[name] = PromptTemplate(table["user"], table.get("system"))
    return templates


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PromptError(f"{path}: not UTF-8 text ({error})") from error


def _from_folder(folder: Path) -> dict[str, PromptTemplate]:
    known = {f"{n}.txt" for n in TEMPLATE_NAMES} | {f"{n}.system.txt" for n in TEMPLATE_NAMES}
    unknown = sorted(p.name for p in folder.glob("*.txt") if p.name not in known)
    if unknown:
        raise PromptError(
            f"{folder}: unknown template file(s) {unknown}; expected <name>.txt and optional "
            f"<name>.system.txt for {_NEEDED}"
        )
    templates = {}
    for name in TEMPLATE_NAMES:
        user = folder / f"{name}.txt"
        if not user.is_file():
            raise PromptError(f"{folder}: missing template {user.name} (need {_NEEDED})")
        system = folder / f"{name}.system.txt"
        templates[name] = PromptTemplate(_read(user), _read(system) if system.is_file() else None)
    return templates
