"""The e2e code location: the real graph with a 2-step fine-tune and fast sensors.

Assets, checks, jobs, schedule, IO managers, storage and the SQL database are the real ones
from ``definitions.py`` (storage root, landing zone and database from ``SCAR_HOME``,
``SCAR_LANDING_ZONE`` and ``SCAR_DATABASE_URL`` as for users). Only these differ:

- ``instruct_lm`` is the offline SmolLM2 as for users (a random tiny LM's perplexities are noise,
  and the style gate on the subset measures them);
- ``fine_tune`` runs the local SFT launcher for 2 steps;
- ``check_thresholds`` accepts any validation accuracy (the ranker trains for 2 epochs);
- the three sensors are built by ``assets.jobs.build_sensors`` as for users, with
  ``minimum_interval_seconds=$SCAR_E2E_SENSOR_INTERVAL`` (default 5) instead of 30.
"""

import os

from dagster import Definitions

import definitions
import settings
from assets import jobs
from scar_dagster.dagster.resources import (
    CheckThresholdsResource,
    FineTuneResource,
)

INTERVAL = int(os.environ.get("SCAR_E2E_SENSOR_INTERVAL", "5"))


def _resources() -> dict:
    """Real resources from the environment, with a 2-step fine-tune."""
    home = settings.scar_home(definitions.PROJECT_DIR)
    res = definitions.build_resources(home)
    res["check_thresholds"] = CheckThresholdsResource(min_validation_accuracy=0.0)
    res["fine_tune"] = FineTuneResource(
        output_root=settings.finetune_dir(home), max_steps=2, batch_size=2, max_length=64
    )
    return res


def _definitions() -> Definitions:
    """The real definitions with the e2e resources and fast sensors (built in a function: a
    code location may hold one ``Definitions`` object at module scope)."""
    real = definitions.build_definitions(resources=_resources())
    return Definitions(
        assets=real.assets,
        asset_checks=real.asset_checks,
        jobs=real.jobs,
        sensors=jobs.build_sensors(real.jobs, minimum_interval_seconds=INTERVAL),
        schedules=real.schedules,
        resources=real.resources,
    )


defs = _definitions()
