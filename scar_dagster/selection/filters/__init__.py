"""The selection's filter steps, one module each, run by one driver (``selection.filtering``)."""

from scar_dagster.selection.filters.base import ColumnFilter as ColumnFilter
from scar_dagster.selection.filters.base import Dropped as Dropped
from scar_dagster.selection.filters.base import MeasureFilter as MeasureFilter
from scar_dagster.selection.filters.base import PairText as PairText
from scar_dagster.selection.filters.base import PoolFilter as PoolFilter
from scar_dagster.selection.filters.base import TextsFilter as TextsFilter
from scar_dagster.selection.filters.degenerate import DegenerateFilter as DegenerateFilter
from scar_dagster.selection.filters.exact_dedup import ExactDedupFilter as ExactDedupFilter
from scar_dagster.selection.filters.language import LanguageFilter as LanguageFilter
from scar_dagster.selection.filters.near_dedup import NearDedupFilter as NearDedupFilter
