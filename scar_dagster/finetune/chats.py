"""Training rows for TRL: subset rows -> conversational prompt/completion examples.

Each pair becomes ``{"prompt": [user turn], "completion": [assistant turn]}``, TRL's
conversational prompt-completion format: ``SFTTrainer`` renders both with the tokenizer's chat
template and puts the loss on the completion (the assistant turn and its end-of-turn token)
only. :func:`user_turn` is also how the evaluation asks a fine-tuned model, so a model is asked
the way it was trained.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ALPACA_FILE = "alpaca.jsonl"
Pair = tuple[str, str]


def load_subset(subset: Sequence[dict[str, Any]] | str | Path) -> list[Pair]:
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


def _pair(row: dict[str, Any], index: int) -> Pair:
    response = row.get("output", row.get("response"))
    instruction = row.get("instruction")
    if not isinstance(instruction, str) or not isinstance(response, str):
        raise ValueError(f"row {index}: need string 'instruction' and 'output' (or 'response')")
    extra = row.get("input") or ""
    return (f"{instruction}\n\n{extra}" if extra else instruction), response


def write_alpaca(pairs: Sequence[Pair], path: str | Path) -> Path:
    """Write pairs as an Alpaca JSONL file (the input of ``mode: command`` trainers)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (
        json.dumps({"instruction": i, "input": "", "output": r}, ensure_ascii=False) + "\n"
        for i, r in pairs
    )
    path.write_text("".join(lines), encoding="utf-8")
    return path


def subset_content_version(pairs: Sequence[Pair]) -> str:
    """A version id from the subset's content (used when the caller gives none)."""
    digest = hashlib.sha256()
    for instruction, response in pairs:
        digest.update(json.dumps([instruction, response], ensure_ascii=False).encode())
        digest.update(b"\n")
    return "content-" + digest.hexdigest()[:16]


def split_indices(n: int, eval_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded ``(train, eval)`` index split; eval has ``max(1, round(n * fraction))`` rows."""
    import numpy as np

    n_eval = 0 if eval_fraction == 0 or n < 2 else min(n - 1, max(1, round(n * eval_fraction)))
    order = np.random.default_rng(seed).permutation(n).tolist()
    return sorted(order[n_eval:]), sorted(order[:n_eval])


def user_turn(instruction: str) -> list[dict[str, str]]:
    """The chat a model is trained on and asked with: one user message, no system prompt
    (the chat template adds its own default system prompt, if it has one)."""
    return [{"role": "user", "content": instruction}]


def prompt_completion(pairs: Sequence[Pair]) -> list[dict[str, list[dict[str, str]]]]:
    """TRL conversational prompt-completion rows of ``pairs``."""
    return [
        {"prompt": user_turn(i), "completion": [{"role": "assistant", "content": r}]}
        for i, r in pairs
    ]


def to_dataset(pairs: Sequence[Pair]) -> Any:
    """A ``datasets.Dataset`` (in memory) of prompt-completion rows."""
    from datasets import Dataset

    return Dataset.from_list(prompt_completion(pairs))


def count_too_long(tokenizer: Any, pairs: Sequence[Pair], max_length: int) -> tuple[int, int]:
    """``(truncated, dropped)``: chats longer than ``max_length`` tokens, and those whose
    prompt alone fills it (TRL keeps the start, so they have no response token left and
    ``SFTTrainer`` drops them)."""
    truncated = dropped = 0
    for instruction, response in pairs:
        prompt = tokenizer.apply_chat_template(user_turn(instruction), add_generation_prompt=True)
        chat = [*user_turn(instruction), {"role": "assistant", "content": response}]
        full = tokenizer.apply_chat_template(chat)
        truncated += len(_ids(full)) > max_length
        dropped += len(_ids(prompt)) >= max_length
    return truncated, dropped


def _ids(encoded: Any) -> list[int]:
    """Token ids of ``apply_chat_template(..., tokenize=True)`` (a list or a BatchEncoding)."""
    return list(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)
