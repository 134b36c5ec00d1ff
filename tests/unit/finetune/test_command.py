"""External-command launcher: environment, log capture, exit codes, timeouts."""

from __future__ import annotations

import json
import sys
import time

import pytest

from scar_dagster.finetune.command import (
    LOG_FILE,
    FineTuneError,
    raise_for_status,
    run_command,
)
from scar_dagster.finetune.record import read_record

WRITE_ENV = (
    "import json, os; "
    "keys = ['SCAR_SUBSET_PATH', 'SCAR_SUBSET_VERSION', 'SCAR_OUTPUT_DIR', 'EXTRA']; "
    "out = os.environ['SCAR_OUTPUT_DIR']; "
    "json.dump({k: os.environ.get(k) for k in keys}, open(os.path.join(out, 'env.json'), 'w')); "
    "print('training on', os.environ['SCAR_SUBSET_VERSION'])"
)


def _run(tmp_path, code: str, **kwargs):
    return run_command(
        [sys.executable, "-c", code],
        subset_path=tmp_path / "subset.jsonl",
        subset_version="v7",
        output_dir=tmp_path / "run",
        **kwargs,
    )


def test_passes_env_and_records_success(tmp_path):
    record = _run(tmp_path, WRITE_ENV, env={"EXTRA": "x"})
    env = json.loads((tmp_path / "run" / "env.json").read_text())
    assert env == {
        "SCAR_SUBSET_PATH": str(tmp_path / "subset.jsonl"),
        "SCAR_SUBSET_VERSION": "v7",
        "SCAR_OUTPUT_DIR": str(tmp_path / "run"),
        "EXTRA": "x",
    }
    assert (record.status, record.exit_code, record.reason) == ("succeeded", 0, None)
    assert record.mode == "command" and record.subset_version == "v7"
    assert "training on v7" in (tmp_path / "run" / LOG_FILE).read_text()
    assert read_record(tmp_path / "run") == record
    assert raise_for_status(record) is record


def test_nonzero_exit_is_failed_with_log_tail(tmp_path):
    code = (
        "import sys; print('loading data'); sys.stderr.write('CUDA out of memory\\n'); sys.exit(3)"
    )
    record = _run(tmp_path, code)
    assert (record.status, record.exit_code) == ("failed", 3)
    assert record.reason == "exited with code 3"
    log = (tmp_path / "run" / LOG_FILE).read_text()
    assert "loading data" in log and "CUDA out of memory" in log
    with pytest.raises(FineTuneError, match="v7 failed: exited with code 3") as error:
        raise_for_status(record)
    assert "CUDA out of memory" in str(error.value) and error.value.record == record


def test_timeout_kills_the_command_and_fails(tmp_path):
    start = time.monotonic()
    record = _run(
        tmp_path, "import time; print('started', flush=True); time.sleep(60)", timeout_s=1
    )
    assert time.monotonic() - start < 10
    assert record.status == "failed" and record.reason == "timed out after 1 s"
    log = (tmp_path / "run" / LOG_FILE).read_text()
    assert "started" in log and "timed out" in log


def test_missing_executable_is_failed_not_raised(tmp_path):
    record = run_command(
        ["/nonexistent/train.sh"], subset_path="s", subset_version="v1", output_dir=tmp_path
    )
    assert record.status == "failed" and record.exit_code is None
    assert record.reason.startswith("could not start the command")


def test_string_command_is_split_without_a_shell(tmp_path):
    command = f"{sys.executable} -c 'import sys; print(sys.argv[1:])' '$HOME' a"
    record = run_command(command, subset_path="s", subset_version="v1", output_dir=tmp_path)
    assert record.succeeded
    assert "['$HOME', 'a']" in (tmp_path / LOG_FILE).read_text()  # no shell expansion


def test_shell_opt_in_needs_a_string(tmp_path):
    with pytest.raises(ValueError, match="one string"):
        run_command(
            ["echo", "hi"], subset_path="s", subset_version="v1", output_dir=tmp_path, shell=True
        )
    record = run_command(
        "echo $SCAR_SUBSET_VERSION | tr a-z A-Z",
        subset_path="s",
        subset_version="v1",
        output_dir=tmp_path,
        shell=True,
    )
    assert record.succeeded and (tmp_path / LOG_FILE).read_text().strip() == "V1"


def test_user_metrics_json_is_copied(tmp_path):
    code = (
        "import json, os; "
        "json.dump({'eval_loss': 0.5}, open(os.environ['SCAR_OUTPUT_DIR'] + '/metrics.json', 'w'))"
    )
    record = _run(tmp_path, code)
    assert record.metrics["eval_loss"] == 0.5 and "wall_time_s" in record.metrics
