"""Automation conditions: react to new *data* upstream, not to every materialization.

Each condition fires when a dependency's data version changed since the previous tick, not when
it was merely materialized again: the assets record a version computed from their content
(``scar_dagster.dagster.versions``), so an identical re-ingest or re-score stops there and
nothing downstream repeats. A materialization launched by hand still runs; only automation
is held back.

``eager_on_new_data()`` fits per-source assets. An asset over all sources needs three more
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


def data_changed() -> AutomationCondition:
    """True for a dependency whose data version changed since the previous tick, in a run that
    did not also plan the asset evaluated (as ``any_deps_updated`` ignores such runs)."""
    return (
        AutomationCondition.data_version_changed()
        & ~AutomationCondition.executed_with_root_target()
    ).with_label("new_data_version_without_root")


def any_deps_data_changed() -> AutomationCondition:
    """A dependency has a new data version, or will be requested on this tick."""
    return AutomationCondition.any_deps_match(
        data_changed() | AutomationCondition.will_be_requested()
    ).with_label("any_deps_data_changed")


def eager_on_new_data() -> AutomationCondition:
    """``AutomationCondition.eager()`` triggered by new upstream data versions only."""
    return (
        AutomationCondition.eager()
        .replace("any_deps_updated", any_deps_data_changed())
        .with_label("eager on new data")
    )


def when_inputs_settle(triggers: Sequence[str], required: Sequence[str]) -> AutomationCondition:
    """Run when a ``triggers`` dependency has a new data version (or the asset is newly
    missing), once no dependency is running, and only if every asset in ``required`` exists;
    missing partitions of the other dependencies do not block it."""
    updated = AutomationCondition.any_deps_match(data_changed()).allow(
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
