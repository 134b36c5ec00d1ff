"""Read SCAR's released ranker training data (their ``data/ranker_data/<domain>/<generator>/``).

Layout of such a folder (local or in any ``BlobStore``, e.g. ``s3://``):

- ``instruction_response/{human,referenced,direct}.json``: JSON arrays of ``{instruction,
  output}``, aligned by position (the same instruction at the same index in all three);
- ``quality_measure/{human,referenced,direct}_{help,correct}_score.json``: JSON objects mapping
  ``"Instruction: " + instruction + "Answer: " + output`` (no separator) to a 0-9 score.

Quality = the mean of helpfulness and correctness (as their trainer's ``help_correct``), or
either alone. A row whose instruction differs between the files, whose score key is missing, or
whose score is not a number in 0-9 is rejected with its reason; a folder missing a file or
holding the wrong JSON type is a ``ScarDataError``.
"""

from __future__ import annotations

import json
from typing import Any

from scar_dagster import schema as r
from scar_dagster.ranker.data.quadruple import score_problem
from scar_dagster.storage.stores import BlobStore

KINDS: tuple[str, ...] = ("human", "referenced", "direct")
QUALITY_MODES: dict[str, tuple[str, ...]] = {
    "help_correct": ("help", "correct"),
    "help": ("help",),
    "correct": ("correct",),
}
RESPONSES_DIR = "instruction_response"
SCORES_DIR = "quality_measure"
SOURCE = "scar_data"
_SCORE_REASONS = {
    "non_numeric": r.SCAR_DATA_SCORE_NON_NUMERIC,
    "out_of_range": r.SCAR_DATA_SCORE_OUT_OF_RANGE,
}


class ScarDataError(ValueError):
    """The folder is not in SCAR's layout; the message names the file and what is wrong."""


def score_key(instruction: str, output: str) -> str:
    """SCAR's key of a quality score (their ``create_key``)."""
    return f"Instruction: {instruction}Answer: {output}"


def is_scar_data(store: BlobStore) -> bool:
    """True when the store holds ``instruction_response/human.json``."""
    return store.exists(f"{RESPONSES_DIR}/human.json")


def _load(store: BlobStore, key: str, kind: type) -> Any:
    if not store.exists(key):
        raise ScarDataError(
            f"{store.uri()} is not a SCAR data folder: {key} is missing (expected "
            f"{RESPONSES_DIR}/{{human,referenced,direct}}.json and "
            f"{SCORES_DIR}/<kind>_{{help,correct}}_score.json)"
        )
    try:
        value = json.loads(store.read_bytes(key))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ScarDataError(f"{store.uri(key)}: invalid JSON ({error})") from error
    if not isinstance(value, kind):
        raise ScarDataError(
            f"{store.uri(key)}: expected a JSON {'array' if kind is list else 'object'}, "
            f"got {type(value).__name__}"
        )
    return value


def _text(record: Any) -> tuple[str, str] | None:
    if not isinstance(record, dict):
        return None
    instruction, output = record.get("instruction"), record.get("output")
    if isinstance(instruction, str) and isinstance(output, str):
        return instruction, output
    return None


def _row_problem(
    index: int, records: dict[str, Any], scores: dict[tuple[str, str], dict], measures
) -> tuple[str, str] | dict[str, Any]:
    """The quadruple at ``index``, or ``(reason, detail)`` of its first problem."""
    texts = {kind: _text(records[kind]) for kind in KINDS}
    for kind, text in texts.items():
        if text is None:
            return r.SCAR_DATA_BAD_RECORD, f"{kind}.json[{index}] is not {{instruction, output}}"
    instruction = texts["human"][0]
    for kind in ("referenced", "direct"):
        if texts[kind][0] != instruction:
            return r.SCAR_DATA_MISALIGNED, f"{kind}.json[{index}] has another instruction"
    empty = [kind for kind in KINDS if not texts[kind][1].strip()]
    if not instruction.strip() or empty:
        return (
            r.SCAR_DATA_EMPTY_TEXT,
            f"empty {'instruction' if not empty else empty[0]} at {index}",
        )
    row: dict[str, Any] = {"id": f"scar-{index}", "instruction": instruction}
    for kind in KINDS:
        output = texts[kind][1]
        row[kind] = output
        values = []
        for measure in measures:
            name = f"{kind}_{measure}_score.json"
            table = scores[(kind, measure)]
            key = score_key(instruction, output)
            if key not in table:
                return r.SCAR_DATA_MISSING_SCORE, f"{name} has no key for index {index}"
            value = table[key]
            problem = score_problem(value)
            if problem is not None:
                return _SCORE_REASONS[problem], f"{name}: {value!r} at index {index} is not 0-9"
            values.append(float(value))
        row[f"quality_{kind}"] = sum(values) / len(values)
    return row


def read_scar_data(
    store: BlobStore, *, quality: str = "help_correct"
) -> tuple[list[dict[str, Any]], list[r.Dropped]]:
    """Quadruple rows (``instruction``, ``human``, ``referenced``, ``direct``, ``quality_*``)
    and one ``Dropped`` per rejected index (``origin_line`` is the 1-based array position)."""
    if quality not in QUALITY_MODES:
        raise ValueError(f"quality must be one of {sorted(QUALITY_MODES)}, got {quality!r}")
    measures = QUALITY_MODES[quality]
    arrays = {kind: _load(store, f"{RESPONSES_DIR}/{kind}.json", list) for kind in KINDS}
    lengths = {kind: len(rows) for kind, rows in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ScarDataError(
            f"{store.uri(RESPONSES_DIR)}: the three files must align by position, "
            f"but their lengths differ: {lengths}"
        )
    scores = {
        (kind, measure): _load(store, f"{SCORES_DIR}/{kind}_{measure}_score.json", dict)
        for kind in KINDS
        for measure in measures
    }
    kept: list[dict[str, Any]] = []
    rejected: list[r.Dropped] = []
    for index in range(lengths["human"]):
        records = {kind: arrays[kind][index] for kind in KINDS}
        result = _row_problem(index, records, scores, measures)
        if isinstance(result, dict):
            kept.append(result)
        else:
            excerpt = str((_text(records["human"]) or ("",))[0])[:200]
            rejected.append(
                r.Dropped(SOURCE, store.uri(RESPONSES_DIR), index + 1, *result, excerpt=excerpt)
            )
    return kept, rejected
