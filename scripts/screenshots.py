"""Headless chromium screenshots of the Dagster UI (the docs' ``docs/ui-*.png``).

Run after ``make demo``, with the same ``SCAR_HOME``/``DAGSTER_HOME``::

    .venv/bin/python scripts/screenshots.py            # writes docs/ui-lineage.png and
                                                       # docs/ui-selected-subset.png

It starts ``dagster-webserver`` alone (no daemon, so no sensor launches anything) on a free
loopback port, captures the pages and stops it. Needs Debian's ``chromium``
(``apt-get install -y chromium``). The e2e tests reuse ``capture``, ``dump_dom`` and
``dismiss_nux`` against their own ``dagster dev``.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PAGES = {
    "ui-lineage.png": "/asset-groups",
    "ui-selected-subset.png": "/assets/selected_subset",
}
# Without the background-networking flags chromium tries Google services and, on a closed
# network, stalls; a fresh profile per call keeps captures independent.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1600,1000",
)


def _chromium(args: list[str], budget_ms: int, timeout_s: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            *args,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)


def capture(url: str, png: Path, budget_ms: int = 20000, timeout_s: float = 180) -> Path:
    """Screenshot ``url`` into ``png`` after ``budget_ms`` of virtual time (the SPA loads)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    result = _chromium([f"--screenshot={png}", url], budget_ms, timeout_s)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot of {url}: {result.stderr[-2000:]}")
    return png


def dump_dom(url: str, budget_ms: int = 20000, timeout_s: float = 180) -> str:
    """The rendered DOM of ``url`` (chromium ``--dump-dom``)."""
    return _chromium(["--dump-dom", url], budget_ms, timeout_s).stdout


def dismiss_nux(base_url: str) -> None:
    """Mark the UI's first-visit "Join the Dagster community" dialog as seen."""
    body = json.dumps({"query": "mutation { setNuxSeen }"}).encode()
    request = urllib.request.Request(
        f"{base_url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"dagster-webserver exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"dagster-webserver not ready after {timeout_s:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--budget-ms", type=int, default=25000)
    args = parser.parse_args()
    env = {**os.environ}
    env.setdefault("DAGSTER_HOME", str(ROOT / ".scar_home" / "dagster_home"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    webserver = Path(sys.executable).parent / "dagster-webserver"
    command = [str(webserver), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            _wait_ready(url, process, timeout_s=180)
            time.sleep(5)  # the code location loads after the server answers
            dismiss_nux(url)
            for name, path in PAGES.items():
                print(capture(url + path, args.out / name, budget_ms=args.budget_ms))
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
