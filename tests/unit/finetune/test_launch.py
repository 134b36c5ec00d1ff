"""launch_finetune dispatches on the mode: the user's command, or a clear error."""

from __future__ import annotations

import shlex
import sys

import pytest

from scar_dagster.finetune.launch import launch_finetune

SEEN = (
    "import os, pathlib; out = pathlib.Path(os.environ['SCAR_OUTPUT_DIR']); "
    "(out / 'seen.txt').write_text(os.environ['SCAR_SUBSET_VERSION'] + ' ' + "
    "os.environ['SCAR_BASE_MODEL'])"
)


def _launch(tmp_path, mode: str, command: str | None = None):
    return launch_finetune(
        mode,
        subset_path=tmp_path / "subset.jsonl",
        subset_version="v3",
        output_dir=tmp_path / "runs" / "v3",
        base_model_path=tmp_path / "no-model",
        command=command,
    )


def test_command_mode_runs_in_the_output_folder_with_the_base_model(tmp_path):
    command = shlex.join([sys.executable, "-c", SEEN])
    record = _launch(tmp_path, "command", command)
    assert (record.mode, record.status, record.subset_version) == ("command", "succeeded", "v3")
    seen = (tmp_path / "runs" / "v3" / "seen.txt").read_text()
    assert seen == f"v3 {tmp_path / 'no-model'}"


def test_command_mode_without_a_command_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="needs a command"):
        _launch(tmp_path, "command")


def test_unknown_mode_is_an_error_naming_the_modes(tmp_path):
    with pytest.raises(ValueError, match=r"unknown fine-tune mode 'remote'.*'local', 'command'"):
        _launch(tmp_path, "remote")
