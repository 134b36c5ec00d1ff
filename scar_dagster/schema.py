"""Plain records shared by every stage: column names and drop-reason codes.

Every row that leaves the pipeline carries one of these stable snake_case codes,
prefixed by the step that dropped it (``ingest_``, ``features_``, ``dedup_``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

# Columns of raw_pairs (one row per kept instruction/response pair). ``origin_turn`` is the
# 1-based turn of a conversation that answered the pair (0: not a conversation); ``origin`` the
# source's fixed label from its scar_source.toml (null without one).
PAIR_COLUMNS = (
    "id",
    "source",
    "instruction",
    "response",
    "origin_file",
    "origin_line",
    "origin_turn",
    "origin",
)

# Columns of raw_quarantine (one row per rejected or duplicate input row).
QUARANTINE_COLUMNS = (
    "source",
    "origin_file",
    "origin_line",
    "origin_turn",
    "reason",
    "detail",
    "duplicate_of",
    "excerpt",
)

# Columns of selection_decisions (one row per input row of a subset version, with its reason).
DECISION_COLUMNS = ("id", "source", "selected", "reason", "rank", "score", "related_id")

# Style metrics whose spread defines style consistency (SCAR, arXiv 2406.10882): the selection
# report, the GX style check, drift and the evaluation compare these columns.
STYLE_METRICS: tuple[str, ...] = ("ttr", "mtld", "perplexity", "n_words")

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
INGEST_TRUNCATED_FILE = "ingest_truncated_file"  # the file ends mid-record: its rest is one row
INGEST_CORRUPT_FILE = "ingest_corrupt_file"  # damaged data mid-file: its rest is one row
INGEST_MALFORMED_ROW = "ingest_malformed_row"  # a CSV/TSV row whose field count is not the header's
INGEST_AMBIGUOUS_LAYOUT = "ingest_ambiguous_layout"  # fields of two layouts: the detail names them
INGEST_NON_TEXT_CONTENT = "ingest_non_text_content"  # an OpenAI content part that is not text
INGEST_JSON_PATH_NOT_FOUND = "ingest_json_path_not_found"  # json_path names no array in the file
# One row per file or folder that is not read, with its path:
INGEST_UNSUPPORTED_FILE_TYPE = "ingest_unsupported_file_type"  # an unknown file suffix
INGEST_SYMLINK_OUTSIDE_ZONE = "ingest_symlink_outside_zone"  # a link out of the landing zone
INGEST_SYMLINK_NOT_FOLLOWED = "ingest_symlink_not_followed"  # a link to a path inside the zone
INGEST_BROKEN_SYMLINK = "ingest_broken_symlink"  # a link whose target does not exist
INGEST_SPECIAL_FILE = "ingest_special_file"  # a FIFO, socket or device: never opened
INGEST_UNREADABLE_FOLDER = "ingest_unreadable_folder"  # a folder that cannot be listed
INGEST_MISSING_SHARD = "ingest_missing_shard"  # a datasets state.json names an absent data file

# Selection reasons (used by selection_decisions).
DEDUP_EXACT = "dedup_exact"
DEDUP_NEAR = "dedup_near"
LANGUAGE_NON_ENGLISH = "language_non_english"
FEATURES_DEGENERATE = "features_degenerate"
SELECT_BELOW_CUTOFF = "select_below_cutoff"
SELECT_QUOTA = "select_quota"
SELECT_UNSCORED = "select_unscored"
SELECTED = "selected"

# Ranker training-data reasons: SCAR's released data folder (instruction_response/ and
# quality_measure/), one row per instruction index.
SCAR_DATA_BAD_RECORD = "scar_data_bad_record"  # not {instruction, output} with string values
SCAR_DATA_MISALIGNED = "scar_data_misaligned_instruction"  # the three files disagree at an index
SCAR_DATA_EMPTY_TEXT = "scar_data_empty_text"  # an empty instruction or output
SCAR_DATA_MISSING_SCORE = "scar_data_missing_score"  # no "Instruction: ...Answer: ..." key
SCAR_DATA_SCORE_NON_NUMERIC = "scar_data_score_non_numeric"
SCAR_DATA_SCORE_OUT_OF_RANGE = "scar_data_score_out_of_range"  # outside 0-9

# Ranker training-data reasons: preference pairs {instruction|prompt, chosen, rejected}.
PAIRS_MALFORMED_JSON = "pairs_malformed_json"
PAIRS_INVALID_ENCODING = "pairs_invalid_encoding"
PAIRS_NOT_OBJECT = "pairs_not_object"
PAIRS_MISSING_FIELD = "pairs_missing_field"
PAIRS_NON_STRING = "pairs_non_string"
PAIRS_EMPTY_TEXT = "pairs_empty_text"
PAIRS_SCORE_NON_NUMERIC = "pairs_score_non_numeric"
PAIRS_SCORE_OUT_OF_RANGE = "pairs_score_out_of_range"  # chosen_score / rejected_score not 0-9

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
    origin_turn: int = 0
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class Quarantined:
    """One input row that was not kept, with the reason code and a human detail."""

    source: str
    origin_file: str
    origin_line: int
    reason: str
    detail: str
    duplicate_of: str | None = None
    excerpt: str = ""
    origin_turn: int = 0
