"""The landing zone: one folder (or S3 prefix) per data source, files inside it.

Source names become Dagster partition keys and storage path components, so they are
validated strictly: ASCII letters, digits, ``_``, ``-`` and ``.``, no ``..``, at most 64 chars.

What a source folder holds, as ``SourceListing``: its data files; its ``scar_source.toml``;
what is not data by design (``ignored``: names starting with ``.`` or ``_``, the JSON files of
a Hugging Face ``save_to_disk`` folder); and what cannot be read (``skipped``: symbolic
links, FIFOs and other special files, folders that cannot be listed), each of which becomes a
quarantine row with its reason and path.
"""

from __future__ import annotations

import os
import re
import stat
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from scar_dagster import schema as r
from scar_dagster.ingest.hub_folders import dataset_folders, is_metadata
from scar_dagster.ingest.source_config import CONFIG_FILE
from scar_dagster.storage.stores import BlobStore, LocalStore, ObjectInfo

SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HIDDEN = "hidden: names starting with '.' or '_' are not data"
HUB_METADATA = "Hugging Face datasets metadata of a save_to_disk folder"


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
class Skipped:
    """A path in a source folder that is not read, with the reason code of its row."""

    key: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class SourceListing:
    """One source folder; keys are relative to it and sorted."""

    files: list[ObjectInfo] = field(default_factory=list)
    config: ObjectInfo | None = None
    skipped: list[Skipped] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)
    dataset_folders: list[str] = field(default_factory=list)

    def only(self, key: str) -> SourceListing:
        """The listing narrowed to the one data file ``key`` (its config kept)."""
        files = [info for info in self.files if info.key == key]
        if not files:
            raise FileNotFoundError(f"{key!r} is not a data file of this folder")
        return replace(self, files=files, skipped=[], ignored={}, dataset_folders=[])


def _listing(infos: list[ObjectInfo], skipped: list[Skipped]) -> SourceListing:
    keys = [info.key for info in infos]
    folders = dataset_folders(keys)
    files, ignored, config = [], {}, None
    for info in infos:
        if info.key == CONFIG_FILE:
            config = info
        elif is_hidden(info.key):
            ignored[info.key] = HIDDEN
        elif is_metadata(info.key, folders):
            ignored[info.key] = HUB_METADATA
        else:
            files.append(info)
    return SourceListing(
        files=files,
        config=config,
        skipped=sorted(skipped, key=lambda item: item.key),
        ignored=ignored,
        dataset_folders=sorted(folders),
    )


def _link_row(path: Path, key: str, root: Path) -> Skipped:
    target = os.readlink(path)
    resolved = path.resolve()
    if not resolved.exists():
        detail = f"symbolic link to {target!r}, which does not exist"
        return Skipped(key, r.INGEST_BROKEN_SYMLINK, detail)
    if resolved != root and root not in resolved.parents:
        detail = f"symbolic link to {target!r}, outside the landing zone: not followed"
        return Skipped(key, r.INGEST_SYMLINK_OUTSIDE_ZONE, detail)
    detail = f"symbolic link to {target!r} in the landing zone: not followed (read it there)"
    return Skipped(key, r.INGEST_SYMLINK_NOT_FOLLOWED, detail)


def unlisted_paths(store: BlobStore, folder: str = "") -> list[Skipped]:
    """What a local store's listing leaves out under ``folder`` (keys relative to the store):
    links, special files and unreadable folders. An S3 prefix has none of these."""
    if not isinstance(store, LocalStore):
        return []
    root = store.root
    top = root / folder if folder else root
    found: list[Skipped] = []

    def unreadable(error: OSError) -> None:
        key = Path(str(error.filename)).relative_to(root).as_posix()
        found.append(Skipped(key, r.INGEST_UNREADABLE_FOLDER, f"cannot list folder: {error}"))

    for dirpath, dirnames, filenames in os.walk(top, onerror=unreadable):
        base = Path(dirpath)
        for name in sorted([*dirnames, *filenames]):
            path = base / name
            key = path.relative_to(root).as_posix()
            if is_hidden(key.partition("/")[2] or key):
                continue
            if path.is_symlink():
                found.append(_link_row(path, key, root))
            elif name in filenames and not stat.S_ISREG(path.lstat().st_mode):
                detail = "not a regular file (a FIFO, socket or device): never opened"
                found.append(Skipped(key, r.INGEST_SPECIAL_FILE, detail))
    return found


def _relative(skipped: Skipped, prefix_len: int) -> Skipped:
    return replace(skipped, key=skipped.key[prefix_len:])


@dataclass(frozen=True, slots=True)
class LandingScan:
    """What the landing zone holds: valid sources, rejected folder names, stray files."""

    sources: dict[str, SourceListing]
    rejected: dict[str, str]
    stray: list[str]

    @property
    def files(self) -> dict[str, list[ObjectInfo]]:
        """The data files of each source."""
        return {source: listing.files for source, listing in self.sources.items()}


def scan_landing_zone(store: BlobStore) -> LandingScan:
    """List every source folder: its data files, config, ignored and skipped paths. A folder
    holding nothing but ignored files is not a source."""
    infos: dict[str, list[ObjectInfo]] = defaultdict(list)
    skipped: dict[str, list[Skipped]] = defaultdict(list)
    rejected: dict[str, str] = {}
    stray: list[str] = []
    entries = [(info.key, info) for info in store.list()]
    entries += [(item.key, item) for item in unlisted_paths(store)]
    for key, entry in entries:
        source, sep, rest = key.partition("/")
        if not sep:
            if isinstance(entry, Skipped):  # a source folder that is a link: not followed
                rejected[source] = f"{source!r} is a {entry.detail}"
            else:
                stray.append(key)
            continue
        problem = source_name_problem(source)
        if problem:
            rejected[source] = problem
        elif isinstance(entry, ObjectInfo):
            infos[source].append(ObjectInfo(key=rest, size=entry.size, version=entry.version))
        else:
            skipped[source].append(_relative(entry, len(source) + 1))
    listings = {
        source: _listing(infos.get(source, []), skipped.get(source, []))
        for source in sorted(infos.keys() | skipped.keys())
    }
    sources = {
        source: listing
        for source, listing in listings.items()
        if listing.files or listing.config or listing.skipped
    }
    return LandingScan(sources=sources, rejected=rejected, stray=sorted(stray))


def list_source(store: BlobStore, folder: str) -> SourceListing:
    """One source folder of ``store`` (any folder name: ``validate_source_name`` is the
    caller's, where the name becomes a partition key)."""
    prefix_len = len(folder) + 1
    infos = [
        ObjectInfo(key=info.key[prefix_len:], size=info.size, version=info.version)
        for info in store.list(folder)
    ]
    skipped = [_relative(item, prefix_len) for item in unlisted_paths(store, folder)]
    return _listing(infos, skipped)
