"""The landing zone: one folder (or S3 prefix) per data source, files inside it.

Source names become Dagster partition keys and storage path components, so they are
validated strictly: ASCII letters, digits, ``_``, ``-`` and ``.``, no ``..``, at most 64 chars.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from scar_dagster.storage.stores import BlobStore, ObjectInfo

SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def source_name_problem(name: str) -> str | None:
    """Return why ``name`` is not a valid source name, or None when it is valid."""
    if not SOURCE_NAME.fullmatch(name):
        return (
            f"invalid source name {name!r}: use 1-64 ASCII letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    if ".." in name:
        return f"invalid source name {name!r}: '..' is not allowed"
    return None


def validate_source_name(name: str) -> str:
    """Return ``name`` if valid, else raise ``ValueError`` saying why."""
    problem = source_name_problem(name)
    if problem:
        raise ValueError(problem)
    return name


def is_hidden(relative_key: str) -> bool:
    """Files or folders starting with '.' or '_' (temp files, markers) are not data."""
    return any(part.startswith((".", "_")) for part in relative_key.split("/"))


@dataclass(frozen=True, slots=True)
class LandingScan:
    """What the landing zone holds: valid sources with their files, and rejected folder names."""

    files: dict[str, list[ObjectInfo]]
    rejected: dict[str, str]
    stray: list[str]


def scan_landing_zone(store: BlobStore) -> LandingScan:
    """List every source folder and its data files (keys relative to the source folder)."""
    files: dict[str, list[ObjectInfo]] = defaultdict(list)
    rejected: dict[str, str] = {}
    stray: list[str] = []
    for info in store.list():
        source, sep, rest = info.key.partition("/")
        if not sep:
            stray.append(info.key)
            continue
        problem = source_name_problem(source)
        if problem:
            rejected[source] = problem
            continue
        if not is_hidden(rest):
            files[source].append(ObjectInfo(key=rest, size=info.size, version=info.version))
    return LandingScan(files=dict(files), rejected=rejected, stray=stray)


def source_files(store: BlobStore, source: str) -> list[ObjectInfo]:
    """The data files of one source, keys relative to the source folder, sorted."""
    validate_source_name(source)
    prefix_len = len(source) + 1
    return [
        ObjectInfo(key=info.key[prefix_len:], size=info.size, version=info.version)
        for info in store.list(source)
        if not is_hidden(info.key[prefix_len:])
    ]
