"""The selection's filter steps, one module each, run by one driver (``driver.run_filters``)."""

from scar_dagster.selection.filters.base import ColumnFilter as ColumnFilter
from scar_dagster.selection.filters.base import Dropped as Dropped
from scar_dagster.selection.filters.base import MeasureFilter as MeasureFilter
from scar_dagster.selection.filters.base import PoolFilter as PoolFilter
from scar_dagster.selection.filters.base import TextsFilter as TextsFilter
from scar_dagster.selection.filters.degenerate import DegenerateFilter as DegenerateFilter
from scar_dagster.selection.filters.driver import filters_for as filters_for
from scar_dagster.selection.filters.driver import run_filters as run_filters
from scar_dagster.selection.filters.exact_dedup import ExactDedupFilter as ExactDedupFilter
from scar_dagster.selection.filters.language import LanguageFilter as LanguageFilter
from scar_dagster.selection.filters.near_dedup import NearDedupFilter as NearDedupFilter
