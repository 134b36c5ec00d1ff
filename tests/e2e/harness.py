"""Helpers that run ``dagster dev`` (webserver + daemon) the way a user does, and talk to it.

``running_dagster_dev`` starts the real CLI in its own process group on 127.0.0.1 and a free
port, with a temporary ``DAGSTER_HOME``, storage root and landing zone, loading
``tests/e2e/e2e_definitions.py``; on exit it kills the whole group and asserts nothing survives.
The fixtures in ``conftest.py`` and the e2e tests import from here.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LOCATION = "scar_e2e"
READY_TIMEOUT_S = 180.0
CHROMIUM = "/usr/bin/chromium"
DAGSTER_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 2
"""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    what: str,
    probe: Callable[[], Any],
    timeout_s: float,
    on_timeout: Callable[[], str],
    interval_s: float = 1.0,
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail with diagnostics at the deadline."""
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - retried until the deadline
            last_error = error
        time.sleep(interval_s)
    pytest.fail(
        f"timed out after {timeout_s:.0f}s waiting for {what}"
        + (f" (last error: {last_error!r})" if last_error else "")
        + "\n"
        + on_timeout(),
        pytrace=False,
    )


def _group_members(pgid: int) -> list[int]:
    """Pids whose process group or session is ``pgid`` (read from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, group, session = fields[0], int(fields[2]), int(fields[3])
        if state != "Z" and pgid in (group, session):
            members.append(int(entry.name))
    return members


@dataclass
class DagsterDev:
    """A running ``dagster dev``: where it listens and where it logs."""

    port: int
    root: Path
    landing: Path
    home: Path
    dagster_home: Path
    log: Path
    quadruples: Path
    process: subprocess.Popen
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def graphql(self, query: str, variables: dict | None = None, timeout_s: float = 30) -> dict:
        """POST a GraphQL query to the webserver; raises on transport or GraphQL errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def log_tail(self, lines: int = 150) -> str:
        """The last lines that dagster dev (webserver, daemon, code server) logged."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "---- dagster dev log (tail) ----\n" + "\n".join(text.splitlines()[-lines:])

    def diagnostics(self) -> str:
        """Daemon log tail plus the runs and sensor ticks the instance knows about."""
        parts = [self.log_tail()]
        try:
            runs = self.graphql(
                "{ runsOrError { ... on Runs { results { runId jobName status tags { key value }"
                " } } } }"
            )["runsOrError"]["results"]
            parts.append("---- runs ----")
            parts += [f"{r['runId'][:8]} {r['jobName']} {r['status']}" for r in runs]
            parts.append("---- sensor ticks ----")
            parts += [f"{name}: {tick}" for name, tick in sensor_ticks(self, limit=3).items()]
        except Exception as error:  # noqa: BLE001 - diagnostics must not mask the failure
            parts.append(f"(GraphQL unavailable: {error!r})")
        return "\n".join(parts)


SENSOR_TICKS = """
query Ticks($selector: SensorSelector!, $limit: Int) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState {
      ticks(limit: $limit) { status timestamp skipReason runIds error { message } } } }
  }
}
"""
SENSORS = ("landing_zone_sensor", "default_automation_condition_sensor", "fine_tune_sensor")


def sensor_ticks(server: "DagsterDev", limit: int = 5) -> dict[str, list[dict]]:
    """Recent ticks of each sensor of the code location, newest first, by name."""
    ticks = {}
    for name in SENSORS:
        selector = {
            "repositoryName": "__repository__",
            "repositoryLocationName": LOCATION,
            "sensorName": name,
        }
        data = server.graphql(SENSOR_TICKS, {"selector": selector, "limit": limit})
        ticks[name] = data["sensorOrError"]["sensorState"]["ticks"]
    return ticks


def _workspace(root: Path) -> Path:
    path = root / "workspace.yaml"
    path.write_text(
        "load_from:\n"
        "  - python_file:\n"
        f"      relative_path: {HERE / 'e2e_definitions.py'}\n"
        f"      working_directory: {ROOT}\n"
        f"      location_name: {LOCATION}\n"
    )
    return path


def _stop(process: subprocess.Popen, timeout_s: float = 30.0) -> list[int]:
    """SIGTERM the process group, SIGKILL what is left at the deadline; return survivors."""
    pgid = process.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in [pgid, *_group_members(pgid)]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig) if pid == pgid else os.kill(pid, sig)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _group_members(pgid):
            time.sleep(0.5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1)
        if not _group_members(pgid):
            break
    return _group_members(pgid)


def _location_loaded(server: DagsterDev) -> bool:
    if server.process.poll() is not None:
        pytest.fail(f"dagster dev exited with {server.process.returncode}\n{server.log_tail()}")
    with urllib.request.urlopen(f"{server.url}/server_info", timeout=5) as response:
        if response.status != 200:
            return False
    data = server.graphql(
        "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus"
        " locationOrLoadError { __typename ... on PythonError { message } } } } } }"
    )
    entries = data["workspaceOrError"]["locationEntries"]
    for entry in entries:
        if entry["locationOrLoadError"]["__typename"] == "PythonError":
            pytest.fail(f"code location failed to load: {entry['locationOrLoadError']}")
    return any(
        e["name"] == LOCATION
        and e["loadStatus"] == "LOADED"
        and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
        for e in entries
    )


def prepare_home(root: Path) -> dict[str, str]:
    """Under ``root``: the landing zone with the planted ``guides`` and ``forum`` sources, an
    empty storage root and ``DAGSTER_HOME`` and the quadruples file; returns the
    environment that ``dagster dev`` (and anything run against the same home) gets."""
    from tests.pipeline import write_landing, write_quadruples

    landing, home, dagster_home = root / "landing", root / "home", root / "dagster_home"
    for path in (home, dagster_home):
        path.mkdir()
    write_landing(landing)
    write_quadruples(root / "quadruples.jsonl")
    (dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "SCAR_HOME": str(home),
        "SCAR_LANDING_ZONE": str(landing),
        "SCAR_E2E_SENSOR_INTERVAL": "5",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SCAR_DATABASE_URL", None)
    return env


@contextlib.contextmanager
def running_dagster_dev(root: Path, env: dict[str, str]) -> Iterator[DagsterDev]:
    """``dagster dev`` on a free loopback port over the home that ``prepare_home(root)`` made;
    the daemon's sensors are on, as for a user. Always torn down by killing the process group."""
    port = free_port()
    dagster = Path(sys.executable).parent / "dagster"
    log = root / "dagster_dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(dagster),
                "dev",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "-w",
                str(_workspace(root)),
            ],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    paths = [root / name for name in ("landing", "home", "dagster_home")]
    server = DagsterDev(port, root, *paths, log, root / "quadruples.jsonl", process, env)
    try:
        wait_for(
            "the webserver and the code location",
            lambda: _location_loaded(server),
            READY_TIMEOUT_S,
            server.log_tail,
            interval_s=2.0,
        )
        yield server
    finally:
        survivors = _stop(process)
        print(server.log_tail(40))
    assert not survivors, f"processes of dagster dev survived teardown: {survivors}"


RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId jobName status startTime endTime tags { key value } } }
  }
}
"""


def runs(server: DagsterDev, **filter_: Any) -> list[dict]:
    """Runs matching a GraphQL ``RunsFilter``, tags as a dict."""
    found = server.graphql(RUNS, {"filter": filter_})["runsOrError"]["results"]
    return [{**r, "tags": {t["key"]: t["value"] for t in r["tags"]}} for r in found]


def ranker_run_config(quadruples: Path) -> dict:
    """The ranker part of ``tests.pipeline.run_config``: a 2-epoch StyleRanker on the planted
    quadruples, trained as the pipeline tests train it (one definition)."""
    from tests.pipeline import run_config

    ops = run_config(quadruples)["ops"]
    return {"ops": {name: ops[name] for name in ("ranker_training_data", "style_ranker")}}
