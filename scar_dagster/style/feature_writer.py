"""The style features of a stream of pair batches, written to one Parquet file as they come.

Each batch of pairs is featurized (``compute_style_features``) and written as one row group
before the next is read, so memory holds one batch of texts plus the numeric columns that the
summaries need (``STAT_COLUMNS``, the truncated and degenerate counts). The file's content
digest is hashed on the way (``frames_digest``): the same pairs give the same digest.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scar_dagster.progress import Progress
from scar_dagster.storage.frame_digest import frames_digest
from scar_dagster.storage.frame_writer import FrameParquetWriter
from scar_dagster.style.features import StyleFeatureParams, compute_style_features
from scar_dagster.style.surprisal_cache import PerplexityLM

STAT_COLUMNS = (
    "n_words",
    "n_sentences",
    "ttr",
    "mtld",
    "flesch_reading_ease",
    "perplexity",
    "relatedness",
)


@dataclass(frozen=True)
class FeaturesFile:
    """What ``write_style_features`` wrote and the summaries of it."""

    rows: int
    digest: str  # frames_digest of every row written
    head: pd.DataFrame  # the first rows, for a preview and the column schema
    stats: pd.DataFrame  # STAT_COLUMNS of every row
    truncated: int  # rows whose texts the LM cut
    degenerate: Counter[str]  # rows by degenerate_reason
    perplexity_computed: int = 0  # pairs run through the LM (the others came from the cache)
    perplexity_reused: int = 0  # pairs whose perplexity the cache had

    @property
    def perplexity_rows(self) -> int:
        """Rows with a perplexity."""
        return int(self.stats["perplexity"].notna().sum())

    @property
    def relatedness_rows(self) -> int:
        """Rows with a relatedness."""
        return int(self.stats["relatedness"].notna().sum())


def write_style_features(
    batches: Iterable[pd.DataFrame],
    empty: pd.DataFrame,
    path: Path | str,
    *,
    lm: PerplexityLM | None,
    encoder: tuple[Any, Any] | None,
    params: StyleFeatureParams,
    store: Any = None,
    sample_ids: Collection[str] | None = None,
    total: int | None = None,
    log: Any = None,
) -> FeaturesFile:
    """Featurize ``batches`` (raw pairs with ``INPUT_COLUMNS``) into ``path``, one row group per
    batch, with one progress line over ``total`` rows (an estimate is fine) to ``log``.

    ``store`` caches perplexities (``compute_style_features``); ``sample_ids`` is the drift
    sample of the whole stream (``features.drift_sample``), default each batch's own. No batch
    at all still writes a file with the columns, featurized from ``empty`` (a frame with no rows
    and the input's dtypes)."""
    progress = Progress("style features", total, log)
    cost = Counter[str]()  # pairs whose perplexity was computed / reused
    options = {"lm": lm, "encoder": encoder, "params": params, "store": store, "cost": cost}

    def featurized(batch: pd.DataFrame, **more: Any) -> pd.DataFrame:
        sample = None if sample_ids is None else batch["id"].isin(sample_ids).to_numpy()
        return compute_style_features(batch, sample=sample, **options, **more)

    computed = (featurized(batch, progress=progress) for batch in batches)
    first = next(computed, None)
    if first is None:
        first = featurized(empty)
    stats: list[pd.DataFrame] = []
    truncated, degenerate = 0, Counter[str]()

    def summarized(frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        nonlocal truncated
        for frame in frames:
            stats.append(frame[list(STAT_COLUMNS)].copy())
            truncated += int(frame["truncated"].fillna(False).astype(bool).sum())
            degenerate.update(frame["degenerate_reason"].dropna().value_counts().to_dict())
            yield frame

    with FrameParquetWriter(path) as writer:
        frames = writer.passing(itertools.chain([first], computed))
        digest = frames_digest(first.dtypes, summarized(frames))
    progress.done()
    return FeaturesFile(
        rows=writer.rows,
        digest=digest,
        head=first.head(5),
        stats=pd.concat(stats, ignore_index=True) if len(stats) > 1 else stats[0],
        truncated=truncated,
        degenerate=degenerate,
        perplexity_computed=cost["computed"],
        perplexity_reused=cost["reused"],
    )
