"""Turn one raw record (Alpaca, ShareGPT, OpenAI messages, prompt/response) into a Pair.

Text is normalized so that the same content always gets the same id: Unicode NFC, ``\\n``
newlines, no zero-width or control characters, no trailing spaces on lines, no leading or
trailing blank lines. Layout (indentation, blank lines between paragraphs) is kept: it is
part of the linguistic form this project measures.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scar_dagster import schema as r

HUMAN_ROLES = frozenset({"human", "user", "prompter"})
ASSISTANT_ROLES = frozenset({"gpt", "assistant", "chatgpt", "bard", "model", "bot"})
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Field names for inputs in a layout the built-in formats do not cover."""

    instruction: str
    response: str
    input: str | None = None


@dataclass(frozen=True, slots=True)
class NormalizeParams:
    """Limits applied to every pair; ``max_text_chars`` bounds instruction and response each."""

    max_text_chars: int = 100_000
    mapping: ColumnMapping | None = None


class Rejected(Exception):
    """A record that cannot become a pair; carries the reason code and a detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def canonical_text(text: str) -> str:
    """``text`` as stored: NFC, LF line ends, tabs as 4 spaces, no control or invisible
    characters, no trailing spaces or runs of blank lines; ids, dedup and features see this."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", _INVISIBLE.sub("", text.replace("\t", "    ")))
    text = _TRAILING_SPACE.sub("", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def pair_id(instruction: str, response: str) -> str:
    """Stable content id: sha256 of the normalized instruction and response, 24 hex chars."""
    digest = hashlib.sha256(f"{instruction}\x1f{response}".encode())
    return digest.hexdigest()[:24]


def _text_field(record: Mapping[str, Any], name: str, *, optional: bool = False) -> str:
    if name not in record:
        if optional:
            return ""
        raise Rejected(r.INGEST_MISSING_FIELD, f"field {name!r} is missing")
    value = record[name]
    if value is None:
        if optional:
            return ""
        raise Rejected(r.INGEST_NULL_VALUE, f"field {name!r} is null")
    if not isinstance(value, str):
        raise Rejected(r.INGEST_NON_STRING, f"field {name!r} is {type(value).__name__}, not text")
    return value


def _from_conversation(turns: Any, role_key: str, text_key: str) -> tuple[str, str]:
    if not isinstance(turns, list):
        raise Rejected(r.INGEST_NON_STRING, f"conversation is {type(turns).__name__}, not a list")
    instruction: str | None = None
    for turn in turns:
        if not isinstance(turn, Mapping):
            raise Rejected(r.INGEST_NON_STRING, "conversation turn is not an object")
        role = str(turn.get(role_key, "")).lower()
        if instruction is None and role in HUMAN_ROLES:
            instruction = _text_field(turn, text_key)
        elif instruction is not None and role in ASSISTANT_ROLES:
            return instruction, _text_field(turn, text_key)
    missing = "human turn" if instruction is None else "assistant turn after the first human turn"
    raise Rejected(r.INGEST_MISSING_FIELD, f"conversation has no {missing}")


def extract_texts(
    record: Mapping[str, Any], mapping: ColumnMapping | None = None
) -> tuple[str, str]:
    """Return raw ``(instruction, response)`` from a record in any supported layout."""
    if mapping is not None:
        instruction = _text_field(record, mapping.instruction)
        extra = _text_field(record, mapping.input, optional=True) if mapping.input else ""
        return _join_input(instruction, extra), _text_field(record, mapping.response)
    if "conversations" in record:
        return _from_conversation(record["conversations"], "from", "value")
    if "messages" in record:
        return _from_conversation(record["messages"], "role", "content")
    if "instruction" in record or "output" in record:
        instruction = _text_field(record, "instruction")
        extra = _text_field(record, "input", optional=True)
        return _join_input(instruction, extra), _text_field(record, "output")
    if "prompt" in record or "response" in record:
        return _text_field(record, "prompt"), _text_field(record, "response")
    keys = ", ".join(sorted(map(str, record))) or "none"
    raise Rejected(r.INGEST_UNKNOWN_FORMAT, f"no known layout matches the fields ({keys})")


def _join_input(instruction: str, extra: str) -> str:
    return f"{instruction}\n\n{extra}" if extra.strip() else instruction


def normalize_record(
    record: Mapping[str, Any],
    *,
    source: str,
    origin_file: str,
    origin_line: int,
    params: NormalizeParams = NormalizeParams(),
) -> r.Pair:
    """Build a normalized Pair from one record or raise ``Rejected`` with the reason."""
    raw_instruction, raw_response = extract_texts(record, params.mapping)
    instruction = canonical_text(raw_instruction)
    response = canonical_text(raw_response)
    for name, text in (("instruction", instruction), ("response", response)):
        if not text:
            raise Rejected(r.INGEST_EMPTY_TEXT, f"{name} is empty or whitespace only")
        if len(text) > params.max_text_chars:
            detail = (
                f"{name} has {len(text):,} characters, over the limit of {params.max_text_chars:,}"
            )
            raise Rejected(r.INGEST_TOO_LONG, detail)
    return r.Pair(
        id=pair_id(instruction, response),
        source=source,
        instruction=instruction,
        response=response,
        origin_file=origin_file,
        origin_line=origin_line,
    )
