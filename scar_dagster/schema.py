"""Plain records shared by every stage: column names and drop-reason codes.

Every row that leaves the pipeline carries one of these stable snake_case codes,
prefixed by the step that dropped it (``ingest_``, ``features_``, ``dedup_``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

# Columns of raw_pairs (one row per kept instruction/response pair).
PAIR_COLUMNS = ("id", "source", "instruction", "response", "origin_file", "origin_line")

# Columns of raw_quarantine (one row per rejected or duplicate input row).
QUARANTINE_COLUMNS = (
    "source",
    "origin_file",
    "origin_line",
    "reason",
    "detail",
    "duplicate_of",
    "excerpt",
)

# Ingest reasons.
INGEST_MALFORMED_JSON = "ingest_malformed_json"
INGEST_MISSING_FIELD = "ingest_missing_field"
INGEST_NON_STRING = "ingest_non_string"
INGEST_EMPTY_TEXT = "ingest_empty_text"
INGEST_TOO_LONG = "ingest_too_long"
INGEST_INVALID_ENCODING = "ingest_invalid_encoding"
INGEST_UNKNOWN_FORMAT = "ingest_unknown_format"
INGEST_UNREADABLE_FILE = "ingest_unreadable_file"
INGEST_NULL_VALUE = "ingest_null_value"
INGEST_EMPTY_FILE = "ingest_empty_file"
INGEST_DUPLICATE = "ingest_duplicate"

# Selection reasons (used by selection_decisions).
DEDUP_EXACT = "dedup_exact"
DEDUP_NEAR = "dedup_near"
LANGUAGE_NON_ENGLISH = "language_non_english"
FEATURES_DEGENERATE = "features_degenerate"
SELECT_BELOW_CUTOFF = "select_below_cutoff"
SELECT_QUOTA = "select_quota"
SELECT_UNSCORED = "select_unscored"
SELECTED = "selected"

# Training-data generation and judging reasons (ranker_training_data, issue 18).
QUADRUPLE_GENERATION_FAILED = "quadruple_generation_failed"  # request failed after retries
QUADRUPLE_GENERATION_TRUNCATED = "quadruple_generation_truncated"  # stopped at max_tokens
QUADRUPLE_GENERATION_EMPTY = "quadruple_generation_empty"  # the reply had no text
QUADRUPLE_JUDGE_FAILED = "quadruple_judge_failed"  # a rating request failed after retries
QUADRUPLE_JUDGE_UNPARSEABLE = "quadruple_judge_unparseable"  # no 0-9 score in the reply


@dataclass(frozen=True, slots=True)
class Pair:
    """One normalized instruction/response pair."""

    id: str
    source: str
    instruction: str
    response: str
    origin_file: str
    origin_line: int


@dataclass(frozen=True, slots=True)
class Dropped:
    """One input row that was not kept, with the reason code and a human detail."""

    source: str
    origin_file: str
    origin_line: int
    reason: str
    detail: str
    duplicate_of: str | None = None
    excerpt: str = ""
