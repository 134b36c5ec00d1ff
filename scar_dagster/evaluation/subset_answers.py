"""Greedy answers of a fine-tuned model to the held-out instructions, cached batch by batch.

Each answer is stored in a :class:`~scar_dagster.llm.cache.ResponseCache` as soon as its batch
is generated, keyed by the model's training fingerprint, the chat and the token cap, so a run
killed half-way regenerates only the answers it had not stored. The model is asked the way it
was trained (``finetune.chats.user_turn``), with ``llm.local.generate_chat``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scar_dagster.finetune.chats import user_turn
from scar_dagster.llm.cache import ResponseCache, cache_key
from scar_dagster.llm.types import ChatResult

ANSWERS_PREFIX = "subset_evaluation/answers"
_LOCAL = "local"


@dataclass(frozen=True)
class Answers:
    """One model's answers in instruction order, whether each hit the cap, and the counts."""

    texts: list[str]
    capped: list[bool]
    generated: int
    cached: int


def answer_key(model_key: str, instruction: str, max_new_tokens: int) -> str:
    """Cache key of one answer of the model trained as ``model_key``."""
    params = {"max_new_tokens": max_new_tokens, "decoding": "greedy"}
    return cache_key(_LOCAL, model_key, user_turn(instruction), params)


def generate_answers(
    tokenizer: Any,
    model: Any,
    instructions: Sequence[str],
    *,
    model_key: str,
    cache: ResponseCache,
    max_new_tokens: int,
    batch_size: int = 8,
    progress: Any | None = None,
) -> Answers:
    """Answers of ``model`` to ``instructions``: cached ones read, the others generated and
    stored one batch at a time."""
    from scar_dagster.llm.local import generate_chat

    keys = [answer_key(model_key, i, max_new_tokens) for i in instructions]
    found: dict[int, ChatResult] = {}
    for n, key in enumerate(keys):
        hit = cache.get(key)
        if hit is not None:
            found[n] = hit
    missing = [n for n in range(len(keys)) if n not in found]
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        chats = [user_turn(instructions[n]) for n in batch]
        replies = generate_chat(
            tokenizer, model, chats, max_new_tokens=max_new_tokens, batch_size=batch_size
        )
        for n, chat, (text, used, hit_cap) in zip(batch, chats, replies, strict=True):
            result = ChatResult(
                content=text, finish_reason="length" if hit_cap else "stop", completion_tokens=used
            )
            request = {"model": model_key, "messages": chat, "max_new_tokens": max_new_tokens}
            cache.put(keys[n], result, request)
            found[n] = result
        if progress is not None:
            progress.advance(len(batch))
    ordered = [found[n] for n in range(len(keys))]
    return Answers(
        texts=[r.content or "" for r in ordered],
        capped=[r.truncated for r in ordered],
        generated=len(missing),
        cached=len(keys) - len(missing),
    )
