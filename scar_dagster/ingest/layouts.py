"""Record layouts: which fields of a record hold its instruction and response.

Flat layouts are recognised by their field names, conversations by a ``conversations``
(ShareGPT) or ``messages`` (OpenAI) list. A layout matches when its instruction and response
fields are both present; a match whose fields are all part of another match's gives way
(``instruction/input/output`` is Alpaca, not ``input/output``). A record matching two layouts
is rejected with both named: nothing is guessed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scar_dagster import schema as r
from scar_dagster.ingest.errors import RecordQuarantined


@dataclass(frozen=True, slots=True)
class FlatLayout:
    """A layout of one instruction field, one response field and an optional input field."""

    name: str
    instruction: str
    response: str
    input: str | None = None

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(f for f in (self.instruction, self.response, self.input) if f is not None)

    def matches(self, record: Mapping[str, Any]) -> bool:
        return self.instruction in record and self.response in record


FLAT_LAYOUTS = (
    FlatLayout("alpaca", "instruction", "output", "input"),
    FlatLayout("dolly", "instruction", "response", "context"),
    FlatLayout("prompt_response", "prompt", "response"),
    FlatLayout("prompt_completion", "prompt", "completion"),
    FlatLayout("question_answer", "question", "answer"),
    FlatLayout("query_response", "query", "response"),
    FlatLayout("input_output", "input", "output"),
)
CONVERSATION_LAYOUTS = {"sharegpt": "conversations", "openai_messages": "messages"}
TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})


def detect_layout(record: Mapping[str, Any]) -> FlatLayout | str:
    """The one layout ``record`` is in: a ``FlatLayout``, or a conversation layout's name.

    Raises ``RecordQuarantined``: ``ingest_ambiguous_layout`` naming the candidates,
    ``ingest_missing_field`` when a layout is only half there, else ``ingest_unknown_format``.
    """
    found = _layout_of(frozenset(record))
    if found is None:
        raise RecordQuarantined(r.INGEST_UNKNOWN_FORMAT, _unknown_detail(record))
    if isinstance(found, tuple):
        raise RecordQuarantined(*found)
    return found


@functools.lru_cache(maxsize=4096)
def _layout_of(keys: frozenset[str]) -> FlatLayout | str | tuple[str, str] | None:
    """``detect_layout`` by field names alone (the records of a file mostly share them): the
    layout, ``(reason, detail)`` of a rejection, or None for no layout at all."""
    flat = [x for x in FLAT_LAYOUTS if x.instruction in keys and x.response in keys]
    if len(flat) > 1:  # a match whose present fields are all part of another's gives way
        present = {layout.name: layout.fields & keys for layout in flat}
        flat = [a for a in flat if not any(present[a.name] < present[b.name] for b in flat)]
    talks = [name for name, field in CONVERSATION_LAYOUTS.items() if field in keys]
    candidates: list[FlatLayout | str] = [*flat, *talks]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ", ".join(_describe(candidate) for candidate in candidates)
        detail = f"the fields fit several layouts ({names}); choose with [fields] in {_CONFIG}"
        return r.INGEST_AMBIGUOUS_LAYOUT, detail
    half = [
        layout
        for layout in FLAT_LAYOUTS
        if (layout.instruction in keys) != (layout.response in keys)
    ]
    if half:
        missing = sorted({f"{_missing(layout, keys)!r}" for layout in half})
        return r.INGEST_MISSING_FIELD, f"field {' or '.join(missing)} is missing"
    return None


_CONFIG = "scar_source.toml"


def _describe(layout: FlatLayout | str) -> str:
    if isinstance(layout, str):
        return f"{layout}: {CONVERSATION_LAYOUTS[layout]}"
    return f"{layout.name}: {layout.instruction}/{layout.response}"


def _missing(layout: FlatLayout, keys: frozenset[str]) -> str:
    return layout.response if layout.instruction in keys else layout.instruction


def _unknown_detail(record: Mapping[str, Any]) -> str:
    keys = ", ".join(sorted(map(str, record))) or "none"
    detail = f"no known layout matches the fields ({keys}); map them with [fields] in {_CONFIG}"
    wrapped = [
        str(key)
        for key, value in record.items()
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value)
    ]
    if len(wrapped) == 1:
        rows = len(record[wrapped[0]])
        detail += (
            f"; {wrapped[0]!r} holds a list of {rows:,} objects: if those are the rows, "
            f'set json_path = "{wrapped[0]}" in {_CONFIG}'
        )
    return detail


def lookup(record: Mapping[str, Any], path: str, *, optional: bool = False) -> Any:
    """The value at a dotted ``path`` (``a.b``, ``list.0.text``); a key holding the whole
    path (dots included) wins. A missing path is None when ``optional``, else rejected."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            if optional:
                return None
            raise RecordQuarantined(
                r.INGEST_MISSING_FIELD, f"field {path!r} is missing (no {part!r})"
            )
    return value


def text_value(value: Any, name: str, *, optional: bool = False) -> str:
    """``value`` as text: a string, or an OpenAI list of content parts (text parts joined by
    newlines). None is ``ingest_null_value``, a non-text part ``ingest_non_text_content``."""
    if value is None:
        if optional:
            return ""
        raise RecordQuarantined(r.INGEST_NULL_VALUE, f"field {name!r} is null")
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(_is_part(part) for part in value):
        return "\n".join(_part_text(part, name) for part in value)
    raise RecordQuarantined(
        r.INGEST_NON_STRING, f"field {name!r} is {type(value).__name__}, not text"
    )


def _is_part(part: Any) -> bool:
    return isinstance(part, Mapping) and ("type" in part or "text" in part)


def _part_text(part: Mapping[str, Any], name: str) -> str:
    kind = part.get("type", "text")
    if kind not in TEXT_PART_TYPES:
        detail = f"field {name!r} has a {kind!r} part; only text parts are read"
        raise RecordQuarantined(r.INGEST_NON_TEXT_CONTENT, detail)
    text = part.get("text")
    if not isinstance(text, str):
        got = type(text).__name__
        raise RecordQuarantined(
            r.INGEST_NON_STRING, f"a text part of field {name!r} is {got}, not text"
        )
    return text


def field_text(record: Mapping[str, Any], path: str, *, optional: bool = False) -> str:
    """The text at ``path`` of ``record`` (see ``lookup`` and ``text_value``)."""
    return text_value(lookup(record, path, optional=optional), path, optional=optional)


def join_input(instruction: str, extra: str) -> str:
    """An Alpaca-style instruction with its ``input`` after a blank line (when it has one)."""
    return f"{instruction}\n\n{extra}" if extra.strip() else instruction
