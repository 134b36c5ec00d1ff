"""Nothing skipped without a word: every path not read is a row with its own reason and path."""

import json
import os

import pytest

from scar_dagster import schema as r
from scar_dagster.ingest.landing import HIDDEN, list_source, scan_landing_zone
from scar_dagster.ingest.pipeline import ingest_source
from scar_dagster.storage.stores import LocalStore

GOOD = json.dumps({"prompt": "Q", "response": "A"}) + "\n"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture()
def zone(tmp_path):
    """A landing zone with a source folder ``src`` holding one good file, and an outside."""
    (tmp_path / "zone" / "src" / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.jsonl").write_text(GOOD)
    (tmp_path / "zone" / "src" / "good.jsonl").write_text(GOOD)
    return tmp_path


def _rows(result) -> dict[str, tuple[str, int]]:
    return {
        row.origin_file: (row.reason, int(row.origin_line))
        for row in result.dropped.itertuples(index=False)
    }


def test_every_path_not_read_is_one_row_and_counted(zone):
    src = zone / "zone" / "src"
    (src / "out.jsonl").symlink_to(zone / "outside" / "secret.jsonl")
    (src / "sub" / "out_dir").symlink_to(zone / "outside", target_is_directory=True)
    (src / "in.jsonl").symlink_to(src / "good.jsonl")
    (src / "gone.jsonl").symlink_to(src / "missing.jsonl")
    os.mkfifo(src / "pipe.jsonl")
    (src / "notes.txt").write_text("some notes")
    (src / "empty.jsonl").write_text("")
    (src / ".DS_Store").write_bytes(b"\0")
    result = ingest_source(LocalStore(zone / "zone"), "src")
    assert _rows(result) == {
        "out.jsonl": (r.INGEST_SYMLINK_OUTSIDE_ZONE, 0),
        "sub/out_dir": (r.INGEST_SYMLINK_OUTSIDE_ZONE, 0),
        "in.jsonl": (r.INGEST_SYMLINK_NOT_FOLLOWED, 0),
        "gone.jsonl": (r.INGEST_BROKEN_SYMLINK, 0),
        "pipe.jsonl": (r.INGEST_SPECIAL_FILE, 0),
        "notes.txt": (r.INGEST_UNSUPPORTED_FILE_TYPE, 0),
        "empty.jsonl": (r.INGEST_EMPTY_FILE, 0),
    }
    assert result.pairs["origin_file"].tolist() == ["good.jsonl"]  # the secret is not read
    assert result.input_rows == 8 == len(result.pairs) + len(result.dropped)
    out = result.dropped.set_index("origin_file").loc["out.jsonl", "detail"]
    assert str(zone / "outside" / "secret.jsonl") in out and "not followed" in out
    assert result.read.listing.ignored == {".DS_Store": HIDDEN}


def test_the_scan_sees_the_same_paths(zone):
    src = zone / "zone" / "src"
    (src / "out.jsonl").symlink_to(zone / "outside" / "secret.jsonl")
    (zone / "zone" / "only_links").mkdir()
    (zone / "zone" / "only_links" / "x.jsonl").symlink_to(zone / "outside" / "secret.jsonl")
    (zone / "zone" / "only_hidden").mkdir()
    (zone / "zone" / "only_hidden" / ".keep").write_text("")
    (zone / "zone" / "linked").symlink_to(zone / "outside", target_is_directory=True)
    scan = scan_landing_zone(LocalStore(zone / "zone"))
    assert sorted(scan.sources) == ["only_links", "src"]  # hidden files alone make no source
    assert "outside the landing zone: not followed" in scan.rejected["linked"]
    assert scan.stray == []
    assert scan.sources["src"] == list_source(LocalStore(zone / "zone"), "src")
    assert [item.key for item in scan.sources["only_links"].skipped] == ["x.jsonl"]


class _Unreadable(LocalStore):
    """A store whose one file cannot be opened (as a file without read permission)."""

    def open_read(self, key):
        if key.endswith("locked.jsonl"):
            raise PermissionError(13, "Permission denied", self.uri(key))
        return super().open_read(key)


def test_an_unreadable_file_is_one_row_with_its_path(zone):
    (zone / "zone" / "src" / "locked.jsonl").write_text(GOOD)
    result = ingest_source(_Unreadable(zone / "zone"), "src")
    row = result.dropped.set_index("origin_file").loc["locked.jsonl"]
    assert row["reason"] == r.INGEST_UNREADABLE_FILE and "Permission denied" in row["detail"]
    assert result.input_rows == 2 == len(result.pairs) + len(result.dropped)


@pytest.mark.skipif(AS_ROOT, reason="root reads files and folders whatever their mode")
def test_files_and_folders_without_permission_are_rows(zone):
    src = zone / "zone" / "src"
    (src / "locked.jsonl").write_text(GOOD)
    (src / "locked.jsonl").chmod(0)
    (src / "closed").mkdir()
    (src / "closed" / "x.jsonl").write_text(GOOD)
    (src / "closed").chmod(0)
    try:
        result = ingest_source(LocalStore(zone / "zone"), "src")
    finally:
        (src / "closed").chmod(0o755)
    assert _rows(result) == {
        "locked.jsonl": (r.INGEST_UNREADABLE_FILE, 0),
        "closed": (r.INGEST_UNREADABLE_FOLDER, 0),
    }
