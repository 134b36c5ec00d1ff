"""Preference pairs ``{instruction, chosen, rejected}`` as ranker training and evaluation data.

Accepted spellings per row: ``instruction`` or ``prompt`` (a string, or a message list whose
last user turn is taken); ``chosen`` and ``rejected`` as strings or as message lists (the last
assistant turn is the response; their last user turn is the instruction when no instruction
field is given); optional ``chosen_score`` / ``rejected_score`` in 0-9 for the quality
constraint. Files are JSONL or a JSON array. Every quarantined row carries a ``pairs_*`` reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scar_dagster import schema as r
from scar_dagster.ranker.data.quadruple import (
    DEFAULT_QUALITY_THRESHOLD,
    Threshold,
    as_constraint,
    normalize_ws,
    score_problem,
)

SOURCE = "preference_pairs"
PAIR_NAME = "chosen>rejected"
SCORE_FIELDS = {"chosen": "chosen_score", "rejected": "rejected_score"}
_SCORE_REASONS = {
    "non_numeric": r.PAIRS_SCORE_NON_NUMERIC,
    "out_of_range": r.PAIRS_SCORE_OUT_OF_RANGE,
}


@dataclass(frozen=True, slots=True)
class PreferencePair:
    """One instruction with a preferred (chosen) and a dispreferred (rejected) response."""

    instruction: str
    chosen: str
    rejected: str
    quality_chosen: float | None = None
    quality_rejected: float | None = None


class _Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _turn(messages: list, roles: tuple[str, ...], field: str) -> str | None:
    for message in reversed(messages):
        if not isinstance(message, Mapping):
            raise _Reject(r.PAIRS_NON_STRING, f"{field}: a message is not an object")
        if str(message.get("role", message.get("from", ""))).lower() in roles:
            content = message.get("content", message.get("value"))
            if not isinstance(content, str):
                raise _Reject(r.PAIRS_NON_STRING, f"{field}: message content is not a string")
            return content
    return None


def _response(obj: Mapping[str, Any], field: str) -> tuple[str, str | None]:
    """``(response, instruction found in the messages or None)`` of ``chosen``/``rejected``."""
    value = obj.get(field)
    if value is None:
        raise _Reject(r.PAIRS_MISSING_FIELD, f"field {field!r} is missing or null")
    if isinstance(value, str):
        return value, None
    if not isinstance(value, list):
        raise _Reject(r.PAIRS_NON_STRING, f"field {field!r} is {type(value).__name__}")
    answer = _turn(value, ("assistant", "gpt", "bot"), field)
    if answer is None:
        raise _Reject(r.PAIRS_MISSING_FIELD, f"field {field!r} has no assistant message")
    return answer, _turn(value, ("user", "human"), field)


def _instruction(obj: Mapping[str, Any], from_messages: str | None) -> str:
    for field in ("instruction", "prompt"):
        value = obj.get(field)
        if value is None:
            continue
        if isinstance(value, list):
            value = _turn(value, ("user", "human"), field)
        if not isinstance(value, str):
            raise _Reject(r.PAIRS_NON_STRING, f"field {field!r} is not a string or messages")
        return value
    if from_messages is None:
        raise _Reject(r.PAIRS_MISSING_FIELD, "no instruction or prompt (nor a user message)")
    return from_messages


def parse_pair(obj: Any) -> dict[str, Any]:
    """The row ``{instruction, chosen, rejected, quality_chosen?, quality_rejected?}``.

    Raises ``ValueError`` whose ``args`` are ``(reason, detail)`` for an invalid row.
    """
    try:
        if not isinstance(obj, Mapping):
            raise _Reject(r.PAIRS_NOT_OBJECT, f"expected a JSON object, got {type(obj).__name__}")
        chosen, asked = _response(obj, "chosen")
        rejected, _ = _response(obj, "rejected")
        row: dict[str, Any] = {
            "instruction": _instruction(obj, asked),
            "chosen": chosen,
            "rejected": rejected,
        }
        for name in ("instruction", "chosen", "rejected"):
            if not row[name].strip():
                raise _Reject(r.PAIRS_EMPTY_TEXT, f"{name} is empty")
        for side, field in SCORE_FIELDS.items():
            value = obj.get(field)
            if value is None:
                continue
            problem = score_problem(value)
            if problem is not None:
                raise _Reject(_SCORE_REASONS[problem], f"{field}={value!r} is not a number in 0-9")
            row[f"quality_{side}"] = float(value)
    except _Reject as error:
        raise ValueError(error.reason, error.detail) from None
    return row


def _records(data: bytes) -> Iterable[tuple[int, Any, str]]:
    """``(line or position, parsed object or a _Reject, excerpt)`` of JSONL or a JSON array."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        yield 0, _Reject(r.PAIRS_INVALID_ENCODING, str(error)), ""
        return
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            yield 0, _Reject(r.PAIRS_MALFORMED_JSON, f"invalid JSON array: {error.msg}"), ""
            return
        for index, item in enumerate(items, start=1):
            yield index, item, json.dumps(item, ensure_ascii=False)[:200]
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), line.strip()[:200]
        except json.JSONDecodeError as error:
            yield number, _Reject(r.PAIRS_MALFORMED_JSON, f"invalid JSON: {error.msg}"), line[:200]


def looks_like_pairs(obj: Any) -> bool:
    """True for a record with ``chosen`` and ``rejected`` fields."""
    return isinstance(obj, Mapping) and "chosen" in obj and "rejected" in obj


def load_preference_pairs(
    data: bytes, name: str
) -> tuple[list[dict[str, Any]], list[r.Quarantined]]:
    """Valid pair rows and one ``Quarantined`` per quarantined row of a JSONL / JSON-array file."""
    kept: list[dict[str, Any]] = []
    quarantined: list[r.Quarantined] = []
    for line, obj, excerpt in _records(data):
        if isinstance(obj, _Reject):
            quarantined.append(
                r.Quarantined(SOURCE, name, line, obj.reason, obj.detail, excerpt=excerpt)
            )
            continue
        try:
            kept.append(parse_pair(obj))
        except ValueError as error:
            reason, detail = error.args
            quarantined.append(r.Quarantined(SOURCE, name, line, reason, detail, excerpt=excerpt))
    return kept, quarantined


def as_pairs(rows: Iterable[Mapping[str, Any]]) -> list[PreferencePair]:
    """Rows (qualities may be absent, None or NaN) as ``PreferencePair`` records."""

    def quality(value: Any) -> float | None:
        return None if value is None or value != value else float(value)  # NaN != NaN

    return [
        PreferencePair(
            instruction=row["instruction"],
            chosen=row["chosen"],
            rejected=row["rejected"],
            quality_chosen=quality(row.get("quality_chosen")),
            quality_rejected=quality(row.get("quality_rejected")),
        )
        for row in rows
    ]


def preference_allowed(
    pair: PreferencePair, threshold: Threshold = DEFAULT_QUALITY_THRESHOLD
) -> bool:
    """SCAR's quality constraint (a minimum or a ``QualityConstraint``; chosen is the better
    response, a quality not given passes) and the texts differ."""
    allowed = as_constraint(threshold).allows(pair.quality_chosen, pair.quality_rejected)
    return allowed and normalize_ws(pair.chosen) != normalize_ws(pair.rejected)


def allowed_mask(pairs: Sequence[PreferencePair], threshold: Threshold) -> list[bool]:
    """``preference_allowed`` of each pair."""
    constraint = as_constraint(threshold)
    return [preference_allowed(p, constraint) for p in pairs]
