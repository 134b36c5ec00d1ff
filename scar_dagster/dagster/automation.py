"""Automation conditions for assets that read every source at once.

``AutomationCondition.eager()`` fits per-source assets. An asset over all sources needs three
changes. It must not wait for a source partition that was never materialized (one broken
source would block the subset forever). It must not run before the inputs that give it meaning
exist (no subset without a champion ranker). And it must not race its inputs: a new champion
updates ``style_ranker`` and, on the same tick, requests every source's re-scoring in separate
runs, so an asset triggered by the ranker itself would select from scores still being written.
It is therefore triggered only by the last input of the chain (the scores), and waits while any
input is still running.
"""

from collections.abc import Sequence

from dagster import AssetSelection, AutomationCondition


def when_inputs_settle(triggers: Sequence[str], required: Sequence[str]) -> AutomationCondition:
    """Run when a ``triggers`` dependency materialized (or the asset is newly missing), once no
    dependency is running, and only if every asset in ``required`` exists; missing partitions
    of the other dependencies do not block it."""
    updated = AutomationCondition.any_deps_match(AutomationCondition.newly_updated()).allow(
        AssetSelection.assets(*triggers)
    )
    required_missing = AutomationCondition.any_deps_match(AutomationCondition.missing()).allow(
        AssetSelection.assets(*required)
    )
    return (
        (AutomationCondition.newly_missing() | updated).since_last_handled()
        & ~required_missing
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
    ).with_label(f"after {', '.join(triggers)} settle")
