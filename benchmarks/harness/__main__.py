"""The child side of ``benchmarks.harness.run_stage`` (started by it, not by hand)."""

import sys

from benchmarks.harness.stages import child_main

child_main(sys.argv[1:])
