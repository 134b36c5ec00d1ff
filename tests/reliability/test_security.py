"""Static guarantees: no unpickling loads, loopback-only UI, keys that cannot escape the root."""

import re
from pathlib import Path

import pytest

from scar_dagster.io.storage import LocalStore, check_key

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    p for folder in ("scar_dagster", "assets", "scripts") for p in (ROOT / folder).rglob("*.py")
] + [ROOT / "definitions.py"]


def _code_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]


@pytest.mark.parametrize(
    "pattern",
    [r"\bimport pickle\b", r"pickle\.loads?\(", r"\bdill\b", r"yaml\.load\(", r"(?<![.\w])eval\("],
)
def test_no_unsafe_deserialization(pattern):
    hits = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in SOURCES
        for line in _code_lines(p)
        if re.search(pattern, line)
    ]
    assert hits == []


def test_every_torch_load_is_weights_only():
    hits = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in SOURCES
        for line in _code_lines(p)
        if "torch.load(" in line and "weights_only=True" not in line
    ]
    assert hits == []


def test_dagster_dev_binds_loopback_only():
    dev = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if "dagster dev" in line
    )
    assert "--host 127.0.0.1" in dev


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd", "a//b", ""])
def test_storage_keys_cannot_escape_the_root(tmp_path, key):
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises(ValueError):
        LocalStore(tmp_path / "root").write_bytes(key, b"x")
    assert not (tmp_path / "x").exists()
