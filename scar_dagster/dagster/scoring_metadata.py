"""What a ``scored_pairs`` materialization shows in the UI: rows scored now and reused, the
ranker version, the table and the precision the scores were computed in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagster import MetadataValue

if TYPE_CHECKING:
    from scar_dagster.precision import Precision
    from scar_dagster.ranker.inference.incremental import IncrementalScores


def scored_pairs_metadata(
    rows: int, result: IncrementalScores, *, version: str, engine: Any, precision: Precision
) -> dict[str, Any]:
    """The metadata of one partition's scores: ``rows`` pairs read, ``result`` of the scoring
    with ranker ``version`` into the table of ``engine``, in ``precision``."""
    from scar_dagster.storage import tables

    return {
        "dagster/row_count": rows,
        "rows_scored": result.scored,
        "rows_reused": result.reused,
        "ranker_version": version,
        "table": MetadataValue.text(f"scored_pairs @ {tables.masked_url(engine)}"),
        "score_mean": result.mean,
        "score_precision": precision.label,
        **precision.to_metadata(),
    }
