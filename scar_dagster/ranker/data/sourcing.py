"""Where ranker training data comes from: one reader for the three formats, or generation.

Formats (detected, never guessed silently: a file whose records fit no format is quarantined row
by row with reasons):

- ``quadruples``: our JSONL (instruction, human, referenced, direct, optional quality_*);
- ``scar_folder``: SCAR's released data folder (see ``scar_dagster.ranker.data.scar_data``);
- ``preference_pairs``: JSONL or a JSON array of ``{instruction|prompt, chosen, rejected}``.

Locations are local paths or ``s3://bucket/key`` (folders: ``s3://bucket/prefix``).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from scar_dagster.ranker.data.preference import load_preference_pairs, looks_like_pairs
from scar_dagster.ranker.data.quadruple import DEFAULT_QUALITY_THRESHOLD, Threshold, as_constraint
from scar_dagster.ranker.data.records import excluded_pairs, records_from_rows
from scar_dagster.schema import Quarantined
from scar_dagster.storage.stores import BlobStore, LocalStore, S3Store, parse_s3_uri

if TYPE_CHECKING:
    import pandas as pd

    from scar_dagster.llm.prompts import PromptSet
    from scar_dagster.ranker.data.judge import QualityJudge
    from scar_dagster.ranker.data.scar_data import ScarExport
    from scar_dagster.ranker.data.training_data import QuadrupleBuild

QUADRUPLES, SCAR_FOLDER, PREFERENCE_PAIRS = "quadruples", "scar_folder", "preference_pairs"
FORMATS: tuple[str, ...] = (QUADRUPLES, SCAR_FOLDER, PREFERENCE_PAIRS)
PAIR_COLUMNS: tuple[str, ...] = (
    "instruction",
    "chosen",
    "rejected",
    "quality_chosen",
    "quality_rejected",
)


@dataclass
class TrainingData:
    """Rows of one format, the quarantined input rows with reasons, and where they came from."""

    format: str
    rows: list[dict[str, Any]]
    quarantined: list[Quarantined] = field(default_factory=list)
    origin: str = ""
    judge: str = ""  # the judge that rated rows without qualities, when one did

    def describe(self) -> str:
        """Where the rows came from, in words (for metadata and summaries)."""
        if self.format == SCAR_FOLDER:
            return f"SCAR's released training data (folder {self.origin})"
        if self.format == PREFERENCE_PAIRS:
            return f"preference pairs from {self.origin}"
        rated = f", rated by {self.judge}" if self.judge else ""
        if self.origin.startswith("generated"):
            return f"quadruples {self.origin}{rated}"
        return f"quadruples from {self.origin}{rated}"

    def quarantined_by_reason(self) -> dict[str, int]:
        """Quarantined rows per reason code, sorted by code."""
        return dict(sorted(Counter(row.reason for row in self.quarantined).items()))

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (pairs always carry both quality columns)."""
        import pandas as pd

        frame = pd.DataFrame(self.rows)
        if self.format == PREFERENCE_PAIRS:
            frame = frame.reindex(
                columns=[*PAIR_COLUMNS, *(c for c in frame if c not in PAIR_COLUMNS)]
            )
        return frame

    def records(self) -> list[Any]:
        """``Quadruple`` or ``PreferencePair`` records for training."""
        return records_from_rows(self.rows, pairs=self.format == PREFERENCE_PAIRS)

    def summary(self, threshold: Threshold = DEFAULT_QUALITY_THRESHOLD) -> dict[str, Any]:
        """Format, row count, rejections by reason, comparisons the quality constraint allows
        (``threshold``: a minimum quality or a ``QualityConstraint``)."""
        constraint = as_constraint(threshold)
        records = self.records()
        excluded = excluded_pairs(records, constraint) if records else {}
        per_record = 1 if self.format == PREFERENCE_PAIRS else 3
        allowed = {name: len(records) - n for name, n in excluded.items()}
        count_name = "pairs" if self.format == PREFERENCE_PAIRS else "quadruples"
        return {
            "format": self.format,
            "origin": self.origin,
            count_name: len(records),
            "quarantined": len(self.quarantined),
            "quarantined_by_reason": self.quarantined_by_reason(),
            "allowed_pairs": allowed,
            "allowed_pairs_total": sum(allowed.values()),
            "comparisons_total": per_record * len(records),
            "quality_threshold": constraint.min_quality,
            "quality_constraint": constraint.to_dict(),
        }


def open_location(location: str, s3_client: Any = None) -> tuple[BlobStore, str | None]:
    """``(store, key)`` of a file location, or ``(store, None)`` for a folder."""
    if location.startswith("s3://"):
        if s3_client is None:
            raise ValueError(f"{location} needs an S3 client (configure the S3Resource)")
        bucket, prefix = parse_s3_uri(location)
        folder = S3Store(s3_client, bucket, prefix)
        from scar_dagster.ranker.data.scar_data import is_scar_data

        if is_scar_data(folder):
            return folder, None
        path = PurePosixPath(prefix)
        return S3Store(s3_client, bucket, str(path.parent).strip(".")), path.name
    path = Path(location)
    if path.is_dir():
        return LocalStore(path), None
    if not path.is_file():
        raise FileNotFoundError(f"training data {location}: no such file or folder")
    return LocalStore(path.parent), path.name


def detect_file_format(data: bytes) -> str:
    """``preference_pairs`` when the first parseable record has chosen and rejected fields."""
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            return QUADRUPLES
        return PREFERENCE_PAIRS if items and looks_like_pairs(items[0]) else QUADRUPLES
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        return PREFERENCE_PAIRS if looks_like_pairs(obj) else QUADRUPLES
    return QUADRUPLES


def load_training_data(
    location: str,
    *,
    s3_client: Any = None,
    quality: str = "help_correct",
    judge: QualityJudge | None = None,
) -> TrainingData:
    """Read a quadruple file, a SCAR data folder or a preference-pairs file.

    ``quality`` picks SCAR's score files (``help_correct``: their mean; ``help``;
    ``correct``). Quadruples without qualities are rated by ``judge`` (default the heuristic).
    """
    from scar_dagster.ranker.data.scar_data import read_scar_data
    from scar_dagster.ranker.data.training_data import load_quadruples, rate_quadruples

    store, key = open_location(location, s3_client)
    if key is None:
        rows, quarantined = read_scar_data(store, quality=quality)
        return TrainingData(SCAR_FOLDER, rows, quarantined, location)
    data = store.read_bytes(key)
    if detect_file_format(data) == PREFERENCE_PAIRS:
        rows, quarantined = load_preference_pairs(data, key)
        return TrainingData(PREFERENCE_PAIRS, rows, quarantined, location)
    stream = io.BytesIO(data)
    stream.name = key
    rows, quarantined = load_quadruples(stream)
    if judge is None:
        from scar_dagster.ranker.data.judge import HeuristicJudge

        judge = HeuristicJudge()
    unrated_before = sum(not _has_qualities(row) for row in rows)
    rows, unrated = rate_quadruples(rows, judge)
    judge_name = getattr(judge, "name", type(judge).__name__) if unrated_before else ""
    return TrainingData(QUADRUPLES, rows, quarantined + unrated, location, judge=judge_name)


def _has_qualities(row: Mapping[str, Any]) -> bool:
    return all(row.get(f"quality_{kind}") is not None for kind in ("human", "referenced", "direct"))


def generate_training_data(
    pool: pd.DataFrame,
    generator: Any,
    judge: QualityJudge | None = None,
    *,
    sample_size: int,
    seed: int,
    prompts: PromptSet | None = None,
    log: Any = None,
) -> tuple[TrainingData, QuadrupleBuild]:
    """Quadruples generated from a seeded sample of the ``pool`` of raw pairs (SCAR's design).

    ``generator`` is any chat backend (``scar_dagster.llm``: the local instruct LM or an
    OpenAI-compatible endpoint), ``judge`` any quality judge (default the heuristic),
    ``prompts`` the generation templates (default: ours). Returns the data and the build (its
    failure share and drop reasons); see ``build_quadruples``.
    """
    from scar_dagster.ranker.data.training_data import build_quadruples, sample_pairs_for_training

    if pool.empty:
        raise ValueError("generate: true needs raw_pairs: ingest at least one source first")
    sample = sample_pairs_for_training(pool, sample_size, seed)
    columns = [c for c in ("id", "source", "instruction", "response") if c in sample]
    build = build_quadruples(
        sample[columns].to_dict("records"), generator, judge, prompts=prompts, log=log
    )
    origin = f"generated from {len(sample)} raw pairs by {build.generator}"
    data = TrainingData(QUADRUPLES, build.rows, build.dropped, origin, judge=build.judge)
    return data, build


def export_scar_layout(
    data: TrainingData,
    root: str,
    *,
    domain: str = "open",
    generator: str | None = None,
    s3_client: Any = None,
) -> ScarExport:
    """Write quadruple ``data`` in the SCAR toolkit's layout under ``root`` (local or s3://):
    ``<root>/ranker_data/<domain>/<generator>/``; see ``scar_data.write_scar_data``."""
    from scar_dagster.ranker.data.scar_data import export_scar_data

    if data.format == PREFERENCE_PAIRS:
        raise ValueError(
            f"{data.origin}: preference pairs have no referenced and direct answers; SCAR's "
            "layout holds quadruples"
        )
    return export_scar_data(
        data.rows,
        root,
        domain=domain,
        generator=generator,
        s3_client=s3_client,
        source=data.describe(),
        judge=data.judge,
    )
