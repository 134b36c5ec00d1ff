"""Schedule factory: periodic re-curation of every data source (every shard of it)."""

from typing import Any

from dagster import (
    DefaultScheduleStatus,
    PartitionsDefinition,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from scar_dagster.dagster.partitions import sorted_partition_keys


def build_recuration_schedule(
    job: Any,
    partitions_def: PartitionsDefinition,
    *,
    cron_schedule: str = "0 3 * * *",
    name: str = "recuration_schedule",
    default_status: DefaultScheduleStatus = DefaultScheduleStatus.RUNNING,
) -> ScheduleDefinition:
    """Request ``job`` (re-scoring) for every partition of ``partitions_def`` (the scored
    assets': every source, or every source x shard) on ``cron_schedule`` (default daily).

    Scoring is incremental, so an unchanged source costs a table lookup; when a source's scores
    change, the eager automation condition of ``selected_subset`` re-selects and re-runs its
    checks, and the fine-tune sensor reacts to a new passing version.
    """

    @schedule(
        name=name,
        job=job,
        cron_schedule=cron_schedule,
        default_status=default_status,
        description="Daily re-curation: re-score every source with the champion ranker.",
    )
    def _recuration(context: ScheduleEvaluationContext) -> list[RunRequest] | SkipReason:
        keys = sorted_partition_keys(partitions_def, context.instance)
        if not keys:
            return SkipReason("no data source registered yet")
        tick = context.scheduled_execution_time.strftime("%Y-%m-%dT%H:%M")
        return [RunRequest(run_key=f"recuration:{tick}:{key}", partition_key=key) for key in keys]

    return _recuration
