"""``python -m scar_dagster.evaluation``."""

from scar_dagster.evaluation.cli import main

raise SystemExit(main())
