"""Training data for local SFT: subset rows -> tokenized chats with response-only labels.

Each pair becomes a chat (user = instruction, assistant = response) rendered with the
tokenizer's chat template; the prompt is everything up to and including the assistant
header, and only the response tokens (with the end-of-turn token) carry labels.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IGNORE_INDEX = -100
ALPACA_FILE = "alpaca.jsonl"
_PLAIN_PROMPT = "### Instruction:\n{instruction}\n\n### Response:\n"


@dataclass(frozen=True)
class Example:
    """One tokenized chat: ``input_ids`` whose first ``n_prompt`` tokens are the prompt."""

    input_ids: list[int]
    n_prompt: int
    truncated: bool = False


def load_subset(subset: Sequence[dict[str, Any]] | str | Path) -> list[tuple[str, str]]:
    """Return ``(instruction, response)`` pairs from rows or an Alpaca JSONL file/folder.

    Rows are Alpaca (``instruction``, optional ``input``, ``output``) or pairs
    (``instruction``, ``response``); a non-empty ``input`` is appended after a blank line.
    A folder means its ``alpaca.jsonl`` (the layout of exported subsets).
    """
    if isinstance(subset, str | Path):
        path = Path(subset)
        path = path / ALPACA_FILE if path.is_dir() else path
        with path.open(encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    else:
        rows = list(subset)
    pairs = [_pair(row, i) for i, row in enumerate(rows)]
    if not pairs:
        raise ValueError("the subset is empty")
    return pairs


def _pair(row: dict[str, Any], index: int) -> tuple[str, str]:
    response = row.get("output", row.get("response"))
    instruction = row.get("instruction")
    if not isinstance(instruction, str) or not isinstance(response, str):
        raise ValueError(f"row {index}: need string 'instruction' and 'output' (or 'response')")
    extra = row.get("input") or ""
    return (f"{instruction}\n\n{extra}" if extra else instruction), response


def subset_content_version(pairs: Sequence[tuple[str, str]]) -> str:
    """A version id from the subset's content (used when the caller gives none)."""
    digest = hashlib.sha256()
    for instruction, response in pairs:
        digest.update(json.dumps([instruction, response], ensure_ascii=False).encode())
        digest.update(b"\n")
    return "content-" + digest.hexdigest()[:16]


def split_indices(n: int, eval_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded ``(train, eval)`` index split; eval has ``max(1, round(n * fraction))`` rows."""
    import torch

    n_eval = 0 if eval_fraction == 0 or n < 2 else min(n - 1, max(1, round(n * eval_fraction)))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return sorted(order[n_eval:]), sorted(order[:n_eval])


def encode_example(tokenizer: Any, instruction: str, response: str, max_length: int) -> Example:
    """Tokenize one chat; the prompt is the chat up to and including the assistant header.

    Over ``max_length``, the response keeps its start (at least half the budget when it is
    that long) and the prompt keeps its end, so the assistant header is never cut off.
    """
    prompt_text, full_text = _chat_texts(tokenizer, instruction, response)
    prompt = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer = tokenizer(full_text[len(prompt_text) :], add_special_tokens=False)["input_ids"]
    if len(prompt) + len(answer) <= max_length:
        return Example(prompt + answer, len(prompt))
    keep_answer = min(len(answer), max(max_length - len(prompt), max_length // 2))
    keep_prompt = max_length - keep_answer
    prompt = prompt[len(prompt) - keep_prompt :]
    return Example(prompt + answer[:keep_answer], len(prompt), truncated=True)


def _chat_texts(tokenizer: Any, instruction: str, response: str) -> tuple[str, str]:
    """``(prompt, full chat)`` as text, with the chat template when the tokenizer has one."""
    if not getattr(tokenizer, "chat_template", None):
        prompt = _PLAIN_PROMPT.format(instruction=instruction)
        return prompt, prompt + response + (tokenizer.eos_token or "")
    user = [{"role": "user", "content": instruction}]
    prompt = tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
    chat = [*user, {"role": "assistant", "content": response}]
    full = tokenizer.apply_chat_template(chat, tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("the chat template does not extend the prompt with the response")
    return prompt, full


def collate(examples: Sequence[Example], pad_id: int) -> dict[str, Any]:
    """Right-pad a batch; labels copy the response tokens and are -100 on prompt and padding."""
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        mask[row, :n] = 1
        labels[row, example.n_prompt : n] = ids[row, example.n_prompt : n]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
