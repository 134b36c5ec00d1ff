"""Read and write ranker training data in the SCAR toolkit's layout
(``data/ranker_data/<domain>/<generator>/``), so data moves both ways.

Layout of such a folder (local or in any ``BlobStore``, e.g. ``s3://``):

- ``instruction_response/{human,referenced,direct}.json``: JSON arrays of ``{instruction,
  output}``, aligned by position (the same instruction at the same index in all three);
- ``quality_measure/{human,referenced,direct}_{help,correct}_score.json``: JSON objects mapping
  ``"Instruction: " + instruction + "Answer: " + output`` (no separator) to a 0-9 score.

Quality = the mean of helpfulness and correctness (as their trainer's ``help_correct``), or
either alone; the scores read are kept as ``helpfulness_<kind>`` and ``correctness_<kind>``.
A row whose instruction differs between the files, whose score key is missing, or whose score
is not a number in 0-9 is rejected with its reason; a folder missing a file or holding the
wrong JSON type is a ``ScarDataError``.

:func:`write_scar_data` writes quadruple rows (ours: ``instruction``, ``human``,
``referenced``, ``direct``, ``quality_*``) in that layout: a row's ``helpfulness_<kind>`` and
``correctness_<kind>`` (what ``ChatJudge`` rated) become the help and correct scores, and a
row without them has its ``quality_<kind>`` written as both, so reading back gives the same
quality. Files are JSON with ``indent=4`` and ASCII escapes, like the toolkit's. The layout
holds only texts and scores; the row count, source and judge go to a ``_SUCCESS`` manifest
written last (the toolkit ignores it); ids, generator and prompts are not kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
_MEASURE_FIELDS = {"help": "helpfulness", "correct": "correctness"}  # their file -> our field
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
            row[f"{_MEASURE_FIELDS[measure]}_{kind}"] = float(value)
        row[f"quality_{kind}"] = sum(values) / len(values)
    return row


def read_scar_data(
    store: BlobStore, *, quality: str = "help_correct"
) -> tuple[list[dict[str, Any]], list[r.Quarantined]]:
    """Quadruple rows (``instruction``, ``human``, ``referenced``, ``direct``, ``quality_*``)
    and one ``Quarantined`` per quarantined index (``origin_line``: the 1-based array position)."""
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
    quarantined: list[r.Quarantined] = []
    for index in range(lengths["human"]):
        records = {kind: arrays[kind][index] for kind in KINDS}
        result = _row_problem(index, records, scores, measures)
        if isinstance(result, dict):
            kept.append(result)
        else:
            excerpt = str((_text(records["human"]) or ("",))[0])[:200]
            quarantined.append(
                r.Quarantined(SOURCE, store.uri(RESPONSES_DIR), index + 1, *result, excerpt=excerpt)
            )
    return kept, quarantined


# --- writing ------------------------------------------------------------------------------

SCAR_EXPORT_UNRATED = "scar_export_unrated"  # a response has no quality to write
SCAR_EXPORT_SCORE_CONFLICT = "scar_export_score_conflict"  # same key, another score
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def scar_folder(domain: str, generator: str) -> str:
    """``ranker_data/<domain>/<generator>``, each part made a safe folder name."""
    parts = [_UNSAFE.sub("_", part).strip("._") or "unknown" for part in (domain, generator)]
    return "ranker_data/" + "/".join(parts)


def row_generator(rows: Iterable[Mapping[str, Any]]) -> str:
    """The one ``generator`` of the rows, ``mixed`` for several, ``unknown`` for none."""
    names = {str(row["generator"]) for row in rows if row.get("generator")}
    return names.pop() if len(names) == 1 else "mixed" if names else "unknown"


@dataclass
class ScarExport:
    """What :func:`write_scar_data` wrote: the folder, the row count and the skipped rows."""

    folder: str
    written: int
    skipped: list[r.Quarantined] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for row in self.skipped:
            reasons[row.reason] = reasons.get(row.reason, 0) + 1
        return {
            "folder": self.folder,
            "written": self.written,
            "skipped": len(self.skipped),
            "skipped_by_reason": dict(sorted(reasons.items())),
        }


def _given(value: Any) -> bool:
    return value is not None and value == value  # NaN (a frame's empty cell) is not given


def _scores(row: Mapping[str, Any], kind: str) -> dict[str, float] | None:
    """``{"help": h, "correct": c}`` of one response, or None when it has no 0-9 quality."""
    quality = row.get(f"quality_{kind}")
    out = {}
    for measure, name in _MEASURE_FIELDS.items():
        value = row.get(f"{name}_{kind}")
        value = value if _given(value) else quality
        if not _given(value) or isinstance(value, bool):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        if score_problem(number) is not None:
            return None
        out[measure] = number
    return out


def write_scar_data(
    rows: Iterable[Mapping[str, Any]], store: BlobStore, folder: str, **manifest: Any
) -> ScarExport:
    """Write ``rows`` under ``folder`` of ``store`` in SCAR's layout (see the module docstring;
    ``folder`` e.g. :func:`scar_folder`'s ``ranker_data/<domain>/<generator>``).

    A row with a response lacking a quality in 0-9 is skipped (``scar_export_unrated``), and
    so is a row whose score key (instruction + output) an earlier row wrote with another score
    (``scar_export_score_conflict``: one key holds one score); each skipped row is returned
    with its 1-based position. ``manifest`` entries go to the ``_SUCCESS`` manifest.
    """
    from scar_dagster.storage.stores import write_marked_folder

    records: dict[str, list[dict[str, str]]] = {kind: [] for kind in KINDS}
    tables = {(kind, m): {} for kind in KINDS for m in _MEASURE_FIELDS}
    skipped: list[r.Quarantined] = []
    where = store.uri(folder)
    for number, row in enumerate(rows, start=1):
        excerpt = str(row.get("id") or row["instruction"])[:200]
        scores = {kind: _scores(row, kind) for kind in KINDS}
        unrated = [kind for kind, value in scores.items() if value is None]
        if unrated:
            detail = f"no 0-9 quality for {', '.join(unrated)}"
            skipped.append(
                r.Quarantined(SOURCE, where, number, SCAR_EXPORT_UNRATED, detail, excerpt=excerpt)
            )
            continue
        keys = {kind: score_key(row["instruction"], row[kind]) for kind in KINDS}
        clash = [
            f"{kind}_{m}"
            for kind in KINDS
            for m in _MEASURE_FIELDS
            if tables[(kind, m)].get(keys[kind], scores[kind][m]) != scores[kind][m]
        ]
        if clash:
            detail = f"an earlier row has the same key with other scores ({', '.join(clash)})"
            skipped.append(
                r.Quarantined(
                    SOURCE, where, number, SCAR_EXPORT_SCORE_CONFLICT, detail, excerpt=excerpt
                )
            )
            continue
        for kind in KINDS:
            records[kind].append({"instruction": row["instruction"], "output": row[kind]})
            for m in _MEASURE_FIELDS:
                tables[(kind, m)][keys[kind]] = scores[kind][m]
    payloads = {f"{RESPONSES_DIR}/{kind}.json": _json(records[kind]) for kind in KINDS} | {
        f"{SCORES_DIR}/{kind}_{m}_score.json": _json(table) for (kind, m), table in tables.items()
    }
    written = len(records["human"])
    meta = {"layout": "scar ranker_data", "rows": written, "skipped": len(skipped), **manifest}
    write_marked_folder(store, folder, payloads, **meta)
    return ScarExport(where, written, skipped)


def export_scar_data(
    rows: Sequence[Mapping[str, Any]],
    root: str,
    *,
    domain: str = "open",
    generator: str | None = None,
    s3_client: Any = None,
    **manifest: Any,
) -> ScarExport:
    """Write ``rows`` to ``<root>/ranker_data/<domain>/<generator>/`` (``root`` a local folder
    or ``s3://bucket/prefix``; ``generator`` default: the rows' own, see :func:`row_generator`)."""
    from scar_dagster.storage.stores import open_store

    folder = scar_folder(domain, generator or row_generator(rows))
    return write_scar_data(rows, open_store(root, s3_client), folder, **manifest)


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=4) + "\n").encode("ascii")
