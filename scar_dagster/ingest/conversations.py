"""Conversations (ShareGPT ``conversations``, OpenAI ``messages``) into pairs, by turn policy.

Every assistant turn after the first user turn can answer a pair. Its instruction is the
conversation before it, from the first user turn on, rendered with this template:

* a single user turn: its text as it is (so ``turns = "first"`` gives SCAR's pairs);
* more turns: one block per turn, ``User: <text>`` or ``Assistant: <text>`` (other roles by
  their own name, e.g. ``Tool: <text>``), blocks separated by a blank line.

``system_prompt = "drop"`` leaves system turns out; ``"prepend"`` puts their texts, then a
blank line, before every instruction. ``turns``: ``"first"`` keeps the first such pair,
``"last"`` the last, ``"all"`` every one. The turns no pair uses are counted (``unused``).
A pair's ``turn`` is the 1-based position of its response turn in the conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scar_dagster import schema as r
from scar_dagster.ingest.canonical import canonical_text
from scar_dagster.ingest.errors import RecordQuarantined
from scar_dagster.ingest.layouts import text_value

USER, ASSISTANT, SYSTEM = "user", "assistant", "system"
ROLES = {
    **dict.fromkeys(("human", "user", "prompter"), USER),
    **dict.fromkeys(("gpt", "assistant", "chatgpt", "bard", "model", "bot"), ASSISTANT),
    "system": SYSTEM,
}
LABELS = {USER: "User", ASSISTANT: "Assistant"}
ROLE_KEYS = ("from", "role")
TEXT_KEYS = ("value", "content", "text")


@dataclass(frozen=True, slots=True)
class RawPair:
    """An instruction and response as read (not yet normalized), and the response's turn."""

    turn: int
    instruction: str
    response: str


@dataclass(frozen=True, slots=True)
class ConversationPairs:
    """The pairs a policy takes from one conversation (a per-pair problem as
    ``RecordQuarantined``)."""

    pairs: list[RawPair | RecordQuarantined]
    turns: int
    used: int

    @property
    def unused(self) -> int:
        return self.turns - self.used


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # dict first: the common case


def _turn_list(value: Any, field: str) -> list[Any]:
    """The turns of ``value``: a list, or a Hugging Face ``Sequence`` of a dict (one list per
    key, e.g. ``{"from": [...], "value": [...]}``)."""
    if type(value) is list:
        return value
    columns = _is_mapping(value) and value and all(isinstance(v, list) for v in value.values())
    if columns and len({len(v) for v in value.values()}) == 1:
        keys = list(value)
        return [dict(zip(keys, row, strict=True)) for row in zip(*value.values(), strict=True)]
    if not isinstance(value, list):
        kind = type(value).__name__
        raise RecordQuarantined(
            r.INGEST_NON_STRING, f"conversation {field!r} is {kind}, not a list"
        )
    return value


def _role(turn: Any, number: int, field: str) -> str:
    """The turn's role (``user``, ``assistant``, ``system`` or its own name, lowercased)."""
    if not _is_mapping(turn):
        detail = f"turn {number} of {field!r} is {type(turn).__name__}, not an object"
        raise RecordQuarantined(r.INGEST_NON_STRING, detail)
    raw = turn.get(ROLE_KEYS[0])
    if raw is None:
        raw = turn.get(ROLE_KEYS[1], "")
    name = str(raw).strip().lower()
    return ROLES.get(name, name or "unknown")


def _roles(messages: list[Any], field: str, turns: str) -> tuple[list[str], int, list[int]]:
    """``(roles, first user turn, answer turns)``; for ``first`` only as far as its answer."""
    roles: list[str] = []
    start, answers = -1, []
    for i, turn in enumerate(messages):
        role = _role(turn, i + 1, field)
        roles.append(role)
        if role == USER and start < 0:
            start = i
        elif role == ASSISTANT and start >= 0:
            answers.append(i)
            if turns == "first":
                break
    if start < 0:
        raise RecordQuarantined(r.INGEST_MISSING_FIELD, "conversation has no human turn")
    if not answers:
        detail = "conversation has no assistant turn after the first human turn"
        raise RecordQuarantined(r.INGEST_MISSING_FIELD, detail)
    return roles, start, answers


def _text(messages: list[Any], i: int, field: str) -> str:
    """Turn ``i``'s text (read only for the turns a pair uses: unused turns are never judged)."""
    turn = messages[i]
    for key in TEXT_KEYS:
        if key in turn:
            return text_value(turn[key], f"{field}[{i + 1}].{key}")
    detail = f"turn {i + 1} of {field!r} has no {' or '.join(map(repr, TEXT_KEYS))}"
    raise RecordQuarantined(r.INGEST_MISSING_FIELD, detail)


def render(history: list[tuple[str, str]]) -> str:
    """The instruction for a response after ``history`` (``(role, text)`` from the first user
    turn on): a lone user turn as it is, else ``Role: text`` blocks of canonical text (the
    module's template)."""
    if len(history) == 1 and history[0][0] == USER:
        return history[0][1]
    return "\n\n".join(
        f"{LABELS.get(role, role.capitalize())}: {canonical_text(text)}" for role, text in history
    )


def conversation_pairs(
    value: Any, field: str, *, turns: str = "first", system_prompt: str = "drop"
) -> ConversationPairs:
    """The pairs of one conversation under the ``turns`` and ``system_prompt`` policies.

    Raises ``RecordQuarantined`` for the whole record when it is not a list of turns or has no
    assistant turn after a user turn; a bad text rejects only the pairs that use it.
    """
    messages = _turn_list(value, field)
    roles, start, answers = _roles(messages, field, turns)
    chosen = answers[-1:] if turns == "last" else answers[:1] if turns == "first" else answers
    prepend = system_prompt == "prepend"
    pairs: list[RawPair | RecordQuarantined] = []
    used: set[int] = set()
    for answer in chosen:
        history = [i for i in range(start, answer) if roles[i] != SYSTEM]
        system = [i for i in range(answer) if roles[i] == SYSTEM] if prepend else []
        used.update(history, system, (answer,))
        try:
            instruction = render([(roles[i], _text(messages, i, field)) for i in history])
            if system:
                prompts = [_text(messages, i, field) for i in system]
                instruction = "\n\n".join([*prompts, instruction])
            pairs.append(RawPair(answer + 1, instruction, _text(messages, answer, field)))
        except RecordQuarantined as rejected:
            pairs.append(RecordQuarantined(rejected.reason, rejected.detail, turn=answer + 1))
    return ConversationPairs(pairs=pairs, turns=len(messages), used=len(used))
