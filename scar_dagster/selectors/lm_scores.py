"""The instruct LM's perplexities that the perplexity, IFD and Superfiltering selectors read,
behind one function (``lm_perplexities``) that the shared perplexity store (issue 33) is to
replace: today it computes every value it is asked for, with the LM code of
``scar_dagster.style.surprisal``.

Conditional: the response given the instruction (the chat prompt, as ``style_features``).
Unconditional: the response alone, predicted from the tokenizer's BOS token (or from its first
token when the tokenizer has none), as Cherry LLM's IFD denominator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from scar_dagster.style.surprisal import response_perplexity
from scar_dagster.torch_env import torch_threads

DEFAULT_BATCH_SIZE = 8
DEFAULT_MAX_TOKENS = 512


def lm_perplexities(
    lm: tuple[Any, Any],
    instructions: Sequence[str],
    responses: Sequence[str],
    *,
    conditional: bool,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> np.ndarray:
    """Perplexity of each response under ``lm`` (``(tokenizer, model)``), given its
    instruction (``conditional``) or alone; NaN for a response of no tokens."""
    tokenizer, model = lm
    if conditional:
        values, _ = response_perplexity(
            tokenizer,
            model,
            list(instructions),
            list(responses),
            batch_size=batch_size,
            max_tokens=max_tokens,
        )
        return values
    return unconditional_perplexity(
        tokenizer, model, responses, batch_size=batch_size, max_tokens=max_tokens
    )


def unconditional_perplexity(
    tokenizer: Any,
    model: Any,
    responses: Sequence[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> np.ndarray:
    """``exp(mean NLL)`` of each response's tokens (cut to ``max_tokens``) with no prompt."""
    import torch

    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    sequences = [
        (bos + list(tokenizer(text, add_special_tokens=False)["input_ids"]))[:max_tokens]
        for text in responses
    ]
    out = np.full(len(sequences), np.nan, dtype=np.float64)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    order = sorted(range(len(sequences)), key=lambda i: (-len(sequences[i]), i))
    device = model.get_output_embeddings().weight.device
    with torch_threads(None), torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = [i for i in order[start : start + batch_size] if len(sequences[i]) > 1]
            if not batch:
                continue
            width = max(len(sequences[i]) for i in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                ids[row, : len(sequences[i])] = torch.tensor(sequences[i])
                mask[row, : len(sequences[i])] = 1
            hidden = model.get_decoder()(
                input_ids=ids.to(device), attention_mask=mask.to(device)
            ).last_hidden_state
            head = model.get_output_embeddings()
            for row, i in enumerate(batch):  # one row's logits at a time: (tokens x vocab)
                n = len(sequences[i])
                logits = head(hidden[row, : n - 1]).float()
                targets = ids[row, 1:n].to(device)
                nll = torch.nn.functional.cross_entropy(logits, targets, reduction="mean")
                out[i] = math.exp(float(nll))
    return out
