"""Subset selection: ``curate`` one subset version from scored pairs, explaining every row.

Filters with per-pair reasons (``filters``), ranking, cutoff and quotas (``cutoff``), the
report, the versioned exports. Plain Python (no Dagster); datasketch, matplotlib and pyarrow
are imported only when used. Example::

    from scar_dagster.selection import SelectionParams, curate

    result = curate(pairs=..., quarantine=..., features=..., ranker_version="...",
                    params=SelectionParams(top_k=5000), engine=engine, store=store,
                    prefix="subsets", folder=workdir)
"""

from scar_dagster.schema import DECISION_COLUMNS as DECISION_COLUMNS
from scar_dagster.selection.curate import CurationResult as CurationResult
from scar_dagster.selection.curate import curate as curate
from scar_dagster.selection.cutoff import rows_for_ratio as rows_for_ratio
from scar_dagster.selection.export import FILES as FILES
from scar_dagster.selection.export import ExportResult as ExportResult
from scar_dagster.selection.export import export_subset as export_subset
from scar_dagster.selection.filters.language import ascii_letter_share as ascii_letter_share
from scar_dagster.selection.filters.language import is_english as is_english
from scar_dagster.selection.params import ScoredBy as ScoredBy
from scar_dagster.selection.params import SelectionParams as SelectionParams
from scar_dagster.selection.params import SelectionRun as SelectionRun
from scar_dagster.selection.report import SelectionReport as SelectionReport
from scar_dagster.selection.report import SubsetDiff as SubsetDiff
from scar_dagster.selection.report import random_subset_ids as random_subset_ids
from scar_dagster.selection.version import subset_version as subset_version
