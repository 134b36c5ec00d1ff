"""What every benchmark shares: one stage runner (a fresh interpreter per stage, its JSON
result, time and peak RSS), one champion publisher, one machine description, and the ingested
synthetic landing zone several benchmarks start from.

Benchmarks run as modules from the repository root (``python -m benchmarks.scale``). Importing
the harness sets the offline flags (no model hub, no tokenizer threads) for this process; every
stage it starts gets them too.
"""

import os

from benchmarks.harness.champion import publish_champion as publish_champion
from benchmarks.harness.landing import generate_landing as generate_landing
from benchmarks.harness.landing import ingest_landing as ingest_landing
from benchmarks.harness.landing import materialize_ingest as materialize_ingest
from benchmarks.harness.landing import raw_files as raw_files
from benchmarks.harness.machine import machine_info as machine_info
from benchmarks.harness.machine import machine_line as machine_line
from benchmarks.harness.machine import matmul_gflops as matmul_gflops
from benchmarks.harness.stages import OFFLINE_ENV
from benchmarks.harness.stages import ROOT as ROOT
from benchmarks.harness.stages import Stage as Stage
from benchmarks.harness.stages import StageFailed as StageFailed
from benchmarks.harness.stages import bench_env as bench_env
from benchmarks.harness.stages import module_command as module_command
from benchmarks.harness.stages import rss_mb as rss_mb
from benchmarks.harness.stages import run_stage as run_stage

for _name, _value in OFFLINE_ENV.items():
    os.environ.setdefault(_name, _value)
