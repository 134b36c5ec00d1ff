"""Data-quality checks on plain DataFrames: GX expectation suites and feature drift.

Importing this package is light: great_expectations loads only when a suite runs.
"""

from __future__ import annotations

from scar_dagster.quality.drift import DriftResult as DriftResult
from scar_dagster.quality.drift import column_stats as column_stats
from scar_dagster.quality.drift import feature_drift as feature_drift
from scar_dagster.quality.expectations import ExpectationOutcome as ExpectationOutcome
from scar_dagster.quality.expectations import ExpectationSpec as ExpectationSpec
from scar_dagster.quality.expectations import ValidationOutcome as ValidationOutcome
from scar_dagster.quality.expectations import run_expectations as run_expectations
from scar_dagster.quality.expectations import style_consistency_specs as style_consistency_specs
from scar_dagster.schema import STYLE_METRICS as STYLE_METRICS
