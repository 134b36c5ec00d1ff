"""The benchmark harness: a stage's JSON result and peak RSS from a fresh interpreter, a clear
error when the stage fails, and one machine line (no timings asserted)."""

from __future__ import annotations

import os

import pytest

from benchmarks.harness import Stage, StageFailed, machine_line, run_stage
from benchmarks.harness.stages import stage_target

HERE = "tests.benchmarks.test_harness"  # how the child imports this module (from the root)


def hold_memory(mb: int, label: str) -> dict:
    """A stage: touch ``mb`` MB, print noise, return facts about its process."""
    block = b"x" * (mb * 2**20)
    print("progress noise that must not break the JSON on stdout")
    env = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "HF_HUB_OFFLINE")}
    return {"label": label, "held": len(block) // 2**20, "pid": os.getpid(), "env": env}


def fail(message: str) -> dict:
    """A stage that raises."""
    raise ValueError(message)


def nothing() -> None:
    """A stage that exits 0 without returning a result."""
    os._exit(0)


def test_a_stage_reports_its_json_and_its_own_peak_rss():
    small = run_stage(f"{HERE}:hold_memory", {"mb": 1, "label": "small"})
    large = run_stage(f"{HERE}:hold_memory", {"mb": 200, "label": "large"})
    assert (small["label"], small["held"], large["held"]) == ("small", 1, 200)
    assert small["pid"] != os.getpid() != large["pid"]
    assert large["peak_rss_mb"] - large["import_rss_mb"] >= 190
    assert small["peak_rss_mb"] - small["import_rss_mb"] < 50
    assert large["seconds"] >= 0


def test_stages_run_at_once_offline_with_the_threads_asked():
    running = [
        Stage(f"{HERE}:hold_memory", {"mb": 1, "label": str(i)}, threads=i + 1) for i in range(2)
    ]
    results = [stage.result() for stage in running]
    assert [r["label"] for r in results] == ["0", "1"]
    assert results[0]["pid"] != results[1]["pid"]
    assert [r["env"] for r in results] == [
        {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"},
        {"OMP_NUM_THREADS": "2", "HF_HUB_OFFLINE": "1"},
    ]


def test_a_failing_stage_raises_with_its_exit_code_and_error(tmp_path):
    log = tmp_path / "fail.log"
    with pytest.raises(StageFailed, match="exit code 1") as failed:
        run_stage(f"{HERE}:fail", {"message": "planted failure 7"}, log=log)
    assert "ValueError: planted failure 7" in str(failed.value)
    assert str(log) in str(failed.value) and "planted failure 7" in log.read_text()


def test_a_stage_without_a_result_is_an_error():
    with pytest.raises(StageFailed, match="printed no JSON result"):
        run_stage(f"{HERE}:nothing", {})


def test_a_stage_function_is_named_by_its_module():
    assert stage_target(run_stage) == "benchmarks.harness.stages:run_stage"
    assert stage_target("a.b:c") == "a.b:c"


def test_the_machine_line_names_cpu_flags_and_load():
    line = machine_line("at the end")
    assert line.startswith("CPU: ") and "logical cores, flags: " in line
    assert "load average at the end (1/5/15 min) " in line
