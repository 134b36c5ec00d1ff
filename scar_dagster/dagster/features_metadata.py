"""What a ``style_features`` materialization shows in the UI: a preview, the feature stats that
the drift check compares, degenerate and truncated rows, histograms, the models' precision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from dagster import MetadataValue

from scar_dagster.dagster.checks import style_stats_metadata
from scar_dagster.dagster.metadata import counts_table, frame_metadata
from scar_dagster.dagster.partitions import partition_path
from scar_dagster.storage.stores import BlobStore

if TYPE_CHECKING:
    from scar_dagster.style.feature_writer import FeaturesFile
    from scar_dagster.style.features import StyleFeatureParams
    from scar_dagster.style.surprisal_cache import PerplexityLM

PREVIEW_COLUMNS = ("id", "n_words", "ttr", "mtld", "perplexity", "relatedness")
HISTOGRAM_COLUMNS = ("perplexity", "ttr")


def store_histograms(
    store: BlobStore, partition_key: str, stats: pd.DataFrame
) -> tuple[bytes, str]:
    """``(png, uri)``: histograms of perplexity and TTR, stored as
    ``plots/style_features/<source>[/<shard>].png`` in ``store``."""
    from scar_dagster.plots import histograms_png

    png = histograms_png(stats, list(HISTOGRAM_COLUMNS))
    key = f"plots/style_features/{partition_path(partition_key)}.png"
    store.write_bytes(key, png)
    return png, store.uri(key)


def style_features_metadata(
    written: FeaturesFile,
    params: StyleFeatureParams,
    *,
    histograms: tuple[bytes, str],
    lm: PerplexityLM | None,
    encoder: tuple[Any, Any] | None,
) -> dict[str, Any]:
    """The metadata of one partition's features file computed with ``params``; ``histograms``
    from ``store_histograms``, ``lm`` and ``encoder`` the models (None when not used). The
    feature stats count the rows each figure is computed on (perplexity and relatedness may
    be on the drift sample only)."""
    from scar_dagster.plots import markdown_image
    from scar_dagster.style.consistency import style_consistency
    from scar_dagster.style.feature_writer import STAT_COLUMNS
    from scar_dagster.style.features import models_precision_metadata

    png, uri = histograms
    degenerate = pd.Series(written.degenerate, dtype="int64").sort_index()
    return {
        **frame_metadata(written.head, PREVIEW_COLUMNS),
        "dagster/row_count": written.rows,
        **style_stats_metadata(written.stats),
        "feature_stats": MetadataValue.json(style_consistency(written.stats, STAT_COLUMNS)),
        "surprisal": MetadataValue.json(
            {
                "perplexity": params.perplexity,
                "relatedness": params.relatedness,
                "sample_rows": params.sample_rows,
                "sample_seed": params.sample_seed,
                "perplexity_rows": written.perplexity_rows,
                "relatedness_rows": written.relatedness_rows,
                "perplexity_computed": written.perplexity_computed,
                "perplexity_reused": written.perplexity_reused,
                **({"model": lm.describe()} if lm is not None else {}),
            }
        ),
        "perplexity_rows": written.perplexity_rows,
        "truncated_rows": written.truncated,
        "degenerate_rows": int(degenerate.sum()),
        "degenerate_by_reason": counts_table(degenerate.to_dict()),
        "histograms": MetadataValue.md(markdown_image(png, "perplexity and TTR")),
        "histograms_path": MetadataValue.path(uri),
        **models_precision_metadata(lm=lm, encoder=encoder),
    }
