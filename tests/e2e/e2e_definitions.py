"""The e2e code location: the real graph with a 2-step fine-tune and fast sensors.

Assets, checks, jobs, schedule, IO managers, storage and the SQL database are the real ones
from ``definitions.py`` (storage root, landing zone and database from ``SCAR_HOME``,
``SCAR_LANDING_ZONE`` and ``SCAR_DATABASE_URL`` as for users). Only these differ:

- ``instruct_lm`` is the offline SmolLM2 as for users (a random tiny LM's perplexities are noise,
  and the style gate on the subset measures them);
- ``fine_tune`` runs the local SFT launcher for 2 steps;
- ``check_thresholds`` accepts any validation accuracy (the ranker trains for 2 epochs);
- the three sensors are built by the same factories/classes as ``assets/jobs.py`` with
  ``minimum_interval_seconds=$SCAR_E2E_SENSOR_INTERVAL`` (default 5) instead of 30.
"""

import os

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
)

import definitions
import settings
from assets import jobs, selection
from scar_dagster.dagster.partitions import data_source_partitions
from scar_dagster.dagster.resources import (
    CheckThresholdsResource,
    FineTuneResource,
)
from scar_dagster.dagster.sensors import build_fine_tune_sensor, build_landing_zone_sensor

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


def _sensors() -> list:
    """The sensors of ``assets/jobs.py``, evaluated every ``INTERVAL`` seconds."""
    return [
        build_landing_zone_sensor(
            jobs.ingest_job, data_source_partitions, minimum_interval_seconds=INTERVAL
        ),
        build_fine_tune_sensor(
            jobs.fine_tune_job,
            AssetKey("selected_subset"),
            selection.GATE_CHECKS,
            minimum_interval_seconds=INTERVAL,
        ),
        AutomationConditionSensorDefinition(
            jobs.automation_sensor.name,
            target=AssetSelection.all(),
            default_status=DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=INTERVAL,
        ),
    ]


defs = Definitions(
    assets=list(definitions.defs.assets or []),
    asset_checks=list(definitions.defs.asset_checks or []),
    jobs=jobs.JOBS,
    sensors=_sensors(),
    schedules=jobs.SCHEDULES,
    resources=_resources(),
)
