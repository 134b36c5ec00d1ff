"""Subset selection: filters and dedup with per-pair reasons, ranking, cutoffs, reports, export.

Plain Python (no Dagster). datasketch, matplotlib and pyarrow are imported only when used.
"""

from scar_dagster.schema import DECISION_COLUMNS as DECISION_COLUMNS
from scar_dagster.selection.dedup import exact_duplicates as exact_duplicates
from scar_dagster.selection.dedup import near_duplicates as near_duplicates
from scar_dagster.selection.export import ExportResult as ExportResult
from scar_dagster.selection.export import export_subset as export_subset
from scar_dagster.selection.export import subset_table as subset_table
from scar_dagster.selection.language import ascii_letter_share as ascii_letter_share
from scar_dagster.selection.language import is_english as is_english
from scar_dagster.selection.report import SelectionReport as SelectionReport
from scar_dagster.selection.report import SubsetDiff as SubsetDiff
from scar_dagster.selection.report import build_report as build_report
from scar_dagster.selection.report import diff_subsets as diff_subsets
from scar_dagster.selection.report import source_counts as source_counts
from scar_dagster.selection.report import spread as spread
from scar_dagster.selection.report import style_comparison as style_comparison
from scar_dagster.selection.select import SelectionParams as SelectionParams
from scar_dagster.selection.select import select_pairs as select_pairs
from scar_dagster.selection.select import subset_version as subset_version
