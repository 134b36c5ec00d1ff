"""Turn one raw record into normalized pairs: its layout found, its texts checked.

A flat record (Alpaca, Dolly, prompt/response, ...; ``layouts.py``) gives one pair; a
conversation gives the pairs its turn policy takes (``conversations.py``). Texts are stored
in canonical form (``canonical.py``), so the same content always gets the same id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scar_dagster import schema as r
from scar_dagster.ingest.canonical import canonical_text, pair_id
from scar_dagster.ingest.conversations import RawPair, conversation_pairs
from scar_dagster.ingest.errors import RecordQuarantined
from scar_dagster.ingest.layouts import (
    CONVERSATION_LAYOUTS,
    FlatLayout,
    detect_layout,
    field_text,
    join_input,
    lookup,
)
from scar_dagster.ingest.source_config import DEFAULT_CONFIG, SourceConfig

__all__ = [
    "NormalizeParams",
    "RecordPairs",
    "RecordQuarantined",
    "normalize_record",
    "record_pairs",
]


@dataclass(frozen=True, slots=True)
class NormalizeParams:
    """Limits applied to every pair; ``max_text_chars`` bounds instruction and response each."""

    max_text_chars: int = 100_000


@dataclass(frozen=True, slots=True)
class RecordPairs:
    """What one record gave: its layout, a pair or a rejection per row, and its turn counts
    (``turns`` 0 for a record that is not a conversation)."""

    layout: str
    rows: list[r.Pair | RecordQuarantined]
    turns: int = 0
    unused_turns: int = 0


def _raw_pairs(
    record: Mapping[str, Any], config: SourceConfig
) -> tuple[str, list[RawPair | RecordQuarantined], int, int]:
    """``(layout, raw pairs, turns, unused turns)`` of ``record`` as ``config`` reads it."""
    fields = config.fields
    if fields is not None and fields.conversation is None:
        assert fields.instruction is not None and fields.response is not None
        instruction = field_text(record, fields.instruction)
        extra = field_text(record, fields.input, optional=True) if fields.input else ""
        raw = RawPair(0, join_input(instruction, extra), field_text(record, fields.response))
        return "fields", [raw], 0, 0
    if fields is not None:
        layout, path = "fields", str(fields.conversation)
        value = lookup(record, path)
    else:
        found = detect_layout(record)
        if isinstance(found, FlatLayout):
            instruction = field_text(record, found.instruction)
            extra = field_text(record, found.input, optional=True) if found.input else ""
            raw = RawPair(0, join_input(instruction, extra), field_text(record, found.response))
            return found.name, [raw], 0, 0
        layout, path = found, CONVERSATION_LAYOUTS[found]
        value = record[path]
    talk = conversation_pairs(value, path, turns=config.turns, system_prompt=config.system_prompt)
    return layout, talk.pairs, talk.turns, talk.unused


def _pair(
    raw: RawPair, where: tuple[str, str, int], params: NormalizeParams, origin: str | None
) -> r.Pair | RecordQuarantined:
    """The normalized pair of ``raw``, or the ``RecordQuarantined`` saying why it is not one."""
    instruction, response = canonical_text(raw.instruction), canonical_text(raw.response)
    for name, text in (("instruction", instruction), ("response", response)):
        if not text:
            return RecordQuarantined(
                r.INGEST_EMPTY_TEXT, f"{name} is empty or whitespace only", raw.turn
            )
        if len(text) > params.max_text_chars:
            detail = (
                f"{name} has {len(text):,} characters, over the limit of {params.max_text_chars:,}"
            )
            return RecordQuarantined(r.INGEST_TOO_LONG, detail, raw.turn)
    source, origin_file, origin_line = where
    return r.Pair(
        id=pair_id(instruction, response),
        source=source,
        instruction=instruction,
        response=response,
        origin_file=origin_file,
        origin_line=origin_line,
        origin_turn=raw.turn,
        origin=origin,
    )


def record_pairs(
    record: Mapping[str, Any],
    *,
    source: str,
    origin_file: str,
    origin_line: int,
    params: NormalizeParams = NormalizeParams(),
    config: SourceConfig = DEFAULT_CONFIG,
) -> RecordPairs:
    """Every row ``record`` gives: normalized pairs, or ``RecordQuarantined`` conversation pairs.

    Raises ``RecordQuarantined`` when the record as a whole cannot be read (no layout, a missing or
    non-text field, a conversation without an answer).
    """
    layout, raws, turns, unused = _raw_pairs(record, config)
    where = (source, origin_file, origin_line)
    rows = [
        raw if isinstance(raw, RecordQuarantined) else _pair(raw, where, params, config.origin)
        for raw in raws
    ]
    return RecordPairs(layout=layout, rows=rows, turns=turns, unused_turns=unused)


def normalize_record(
    record: Mapping[str, Any],
    *,
    source: str,
    origin_file: str,
    origin_line: int,
    params: NormalizeParams = NormalizeParams(),
) -> r.Pair:
    """The one pair of a record under the default settings (a conversation's first turn), or
    ``RecordQuarantined`` raised with the reason; ``record_pairs`` gives every row a config asks
    for."""
    first = record_pairs(
        record, source=source, origin_file=origin_file, origin_line=origin_line, params=params
    ).rows[0]
    if isinstance(first, RecordQuarantined):
        raise first
    return first
