"""Hugging Face ``datasets`` folders written by ``Dataset.save_to_disk``.

Such a folder holds ``data-00000-of-0000N.arrow`` (Arrow IPC streams, read as data),
``state.json`` (``_data_files`` lists the data files in order) and ``dataset_info.json``
(features, description); a ``DatasetDict`` adds ``dataset_dict.json`` (``{"splits": [...]}``)
above one such folder per split. The JSON files describe the data and are not read as rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from scar_dagster import schema as r

STATE_FILE = "state.json"
INFO_FILE = "dataset_info.json"
DICT_FILE = "dataset_dict.json"


def _split(key: str) -> tuple[str, str]:
    folder, _, name = key.rpartition("/")
    return folder, name


def dataset_folders(keys: Iterable[str]) -> set[str]:
    """Folders (``""`` for the top) holding both ``state.json`` and ``dataset_info.json``."""
    names: dict[str, set[str]] = {}
    for key in keys:
        folder, name = _split(key)
        names.setdefault(folder, set()).add(name)
    return {folder for folder, found in names.items() if {STATE_FILE, INFO_FILE} <= found}


def is_metadata(key: str, folders: set[str]) -> bool:
    """True for the JSON files of a ``save_to_disk`` folder or of a ``DatasetDict`` above one."""
    folder, name = _split(key)
    if name in (STATE_FILE, INFO_FILE):
        return folder in folders
    if name == DICT_FILE:
        prefix = f"{folder}/" if folder else ""
        return any(found.startswith(prefix) and found != folder for found in folders)
    return False


def missing_shards(folder: str, state: bytes, present: set[str]) -> list[tuple[str, str, str]]:
    """``(key, reason, detail)`` for each data file ``state.json`` lists that is not in the
    folder, or one row when ``state.json`` cannot be read."""
    where = f"{folder}/{STATE_FILE}" if folder else STATE_FILE
    try:
        files = [entry["filename"] for entry in json.loads(state)["_data_files"]]
    except (ValueError, KeyError, TypeError) as error:
        detail = f"not a datasets state.json (no _data_files list of filenames): {error}"
        return [(where, r.INGEST_UNREADABLE_FILE, detail)]
    rows = []
    for name in files:
        key = f"{folder}/{name}" if folder else name
        if key not in present:
            detail = f"{where} lists {name!r}, which is not in the folder: its rows are missing"
            rows.append((key, r.INGEST_MISSING_SHARD, detail))
    return rows
