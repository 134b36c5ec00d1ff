"""Instructional surprisal of a response: LM perplexity (given the instruction, or of the response
alone), and relatedness.

The functions take a loaded ``(tokenizer, model)`` and do no I/O (``surprisal_cache`` keeps
computed perplexities). Inputs are tokenized without padding, sorted by token length and packed
into batches by a budget of padded tokens (``scar_dagster.batching``, as the StyleRanker scorer
does), so each batch is padded on the right to its own longest member; results come back in
input order and do not depend on the batching (beyond float rounding, ~1e-6 relative).

Both run where the model is (its device and dtype: load it with ``base_models.load_causal_lm`` /
``load_encoder`` and a ``device``/``dtype``). A bf16 LM computes its hidden states in bf16; the
output projection and the log-softmax run in float32, so perplexity is not rounded to bf16.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from scar_dagster.batching import DEFAULT_BATCH_TOKENS, plan_batches
from scar_dagster.torch_env import torch_threads

PerplexityKind = Literal["conditional", "response_only"]
CONDITIONAL: PerplexityKind = "conditional"  # the response given the instruction (chat template)
RESPONSE_ONLY: PerplexityKind = "response_only"  # the response alone (IFD's denominator)
PERPLEXITY_KINDS: tuple[PerplexityKind, ...] = (CONDITIONAL, RESPONSE_ONLY)

_PLACEHOLDER = "\x00SCAR_INSTRUCTION\x00"
_LOGIT_CHUNK = 1024  # response positions per lm_head call: bounds the (positions x vocab) logits


def _pad_right(sequences: list[list[int]], pad_id: int) -> tuple[Any, Any]:
    """Stack token lists into ``(input_ids, attention_mask)`` padded on the right."""
    import torch

    width = max(len(seq) for seq in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


class _PromptBuilder:
    """Token ids of the chat prompt (user turn = instruction, generation prompt appended)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.has_template = bool(getattr(tokenizer, "chat_template", None))
        parts = self._render(_PLACEHOLDER).split(_PLACEHOLDER)
        # A template that does not show the content exactly once cannot be cut around it.
        self.splittable = len(parts) == 2
        self.head = self.encode(parts[0]) if self.splittable else []
        self.tail = self.encode(parts[1]) if self.splittable else []

    def _render(self, instruction: str) -> str:
        if not self.has_template:
            bos = self.tokenizer.bos_token or ""
            return f"{bos}{instruction}\n\n"
        messages = [{"role": "user", "content": instruction}]
        return self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without special tokens added."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []

    def prompt(self, instruction: str) -> list[int]:
        """Whole prompt, tokenized in one piece (as a direct computation would do)."""
        return self.encode(self._render(instruction))

    def cut_prompt(self, instruction: str, budget: int) -> list[int]:
        """Prompt of at most ``budget`` tokens keeping the template and the instruction's start."""
        if not self.splittable:
            return self.prompt(instruction)[:budget]
        keep = budget - len(self.head) - len(self.tail)
        body = self.encode(instruction)[: max(keep, 0)]
        return (self.head + body + self.tail)[:budget]


def _fit(prompt: list[int], response: list[int], max_tokens: int) -> tuple[int, int]:
    """Return how many prompt and response tokens to keep within ``max_tokens``.

    The response tail is cut first; the response keeps at least half of the budget when it
    is that long, so a long instruction is cut (from its end) rather than the whole response.
    """
    if len(prompt) + len(response) <= max_tokens:
        return len(prompt), len(response)
    keep_response = min(len(response), max(max_tokens - len(prompt), max_tokens // 2))
    return max_tokens - keep_response, keep_response


def build_perplexity_inputs(
    tokenizer: Any,
    instructions: Sequence[str],
    responses: Sequence[str],
    max_tokens: int,
    kind: PerplexityKind = CONDITIONAL,
) -> tuple[list[list[int]], list[int], list[bool]]:
    """Token ids ``prompt + response`` per pair, the prompt lengths and the truncation flags.

    ``kind="response_only"``: the prompt is only the BOS token when the tokenizer adds one by
    itself (Llama-style), else empty (GPT-2-style: the first response token is not scored), as
    IFD's "perplexity of the response alone" (Cherry LLM, Superfiltering) computes it."""
    if kind not in PERPLEXITY_KINDS:
        raise ValueError(f"kind must be one of {PERPLEXITY_KINDS}, got {kind!r}")
    builder = _PromptBuilder(tokenizer)
    if kind == RESPONSE_ONLY:
        return _response_only_inputs(builder, responses, max_tokens)
    if max_tokens < 2 * (len(builder.head) + len(builder.tail)) + 2:
        raise ValueError(f"max_tokens={max_tokens} leaves no room for the chat template")
    sequences, prompt_lengths, truncated = [], [], []
    for instruction, response in zip(instructions, responses, strict=True):
        prompt = builder.prompt(instruction)
        answer = builder.encode(response)
        n_prompt, n_answer = _fit(prompt, answer, max_tokens)
        cut = n_prompt < len(prompt) or n_answer < len(answer)
        if n_prompt < len(prompt):
            prompt = builder.cut_prompt(instruction, n_prompt)
        sequences.append(prompt + answer[:n_answer])
        prompt_lengths.append(len(prompt))
        truncated.append(cut)
    return sequences, prompt_lengths, truncated


def _response_only_inputs(
    builder: _PromptBuilder, responses: Sequence[str], max_tokens: int
) -> tuple[list[list[int]], list[int], list[bool]]:
    """``build_perplexity_inputs`` of the responses alone: BOS (if the tokenizer adds one)."""
    tokenizer = builder.tokenizer
    bos = tokenizer.bos_token_id
    adds_bos = bos is not None and tokenizer("a")["input_ids"][:1] == [bos]
    prompt = [bos] if adds_bos else []
    if max_tokens < len(prompt) + 2:
        raise ValueError(f"max_tokens={max_tokens} leaves no room for a response")
    sequences, truncated = [], []
    for response in responses:
        answer = builder.encode(response)
        keep = max_tokens - len(prompt)
        sequences.append(prompt + answer[:keep])
        truncated.append(len(answer) > keep)
    return sequences, [len(prompt)] * len(sequences), truncated


def response_perplexity(
    tokenizer: Any,
    model: Any,
    instructions: Sequence[str],
    responses: Sequence[str],
    *,
    kind: PerplexityKind = CONDITIONAL,
    batch_size: int = 8,
    max_tokens: int = 512,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    num_threads: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Perplexity of each response (given its instruction, or alone), and whether the input was
    truncated.

    ``kind="conditional"``: the prompt is the tokenizer's chat template with the instruction as
    the user turn and the generation prompt appended (no template: BOS + instruction + blank
    line); ``"response_only"``: see ``build_perplexity_inputs``. The response tokens follow
    without an end-of-turn token, so the score covers only the response text and a truncated
    response is scored the same way as a complete one. Perplexity is ``exp(mean NLL)`` over the
    response tokens; a response of no tokens gives NaN. Inputs longer than ``max_tokens`` are
    cut (see ``_fit``) and flagged in ``truncated``. Batches hold at most ``batch_size`` pairs
    and ``batch_tokens`` padded tokens. ``on_batch(n)`` is called after each batch of ``n``
    pairs (progress).
    """
    sequences, prompt_lengths, truncated = build_perplexity_inputs(
        tokenizer, instructions, responses, max_tokens, kind
    )
    perplexity = np.full(len(sequences), np.nan, dtype=np.float64)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with torch_threads(num_threads):
        for batch in plan_batches([len(s) for s in sequences], batch_size, batch_tokens):
            nll_sum, n_tokens = _response_nll(
                model, [sequences[i] for i in batch], [prompt_lengths[i] for i in batch], pad_id
            )
            for row, index in enumerate(batch):
                if n_tokens[row]:
                    perplexity[index] = math.exp(nll_sum[row] / n_tokens[row])
            if on_batch is not None:
                on_batch(len(batch))
    return perplexity, np.asarray(truncated, dtype=bool)


def _response_nll(
    model: Any, sequences: list[list[int]], prompt_lengths: list[int], pad_id: int
) -> tuple[list[float], list[int]]:
    """Sum of the response tokens' NLL and their count, per sequence of one batch."""
    import torch

    device = model.get_output_embeddings().weight.device
    ids, mask = _pad_right(sequences, pad_id)
    ids, mask = ids.to(device), mask.to(device)
    # Position t predicts token t + 1: response tokens are predicted from prompt_len - 1 on.
    rows, cols = [], []
    for row, (seq, n_prompt) in enumerate(zip(sequences, prompt_lengths, strict=True)):
        start = max(n_prompt, 1) - 1
        rows.extend([row] * (len(seq) - 1 - start))
        cols.extend(range(start, len(seq) - 1))
    nll_sum = [0.0] * len(sequences)
    counts = [0] * len(sequences)
    if not rows:
        return nll_sum, counts
    with torch.inference_mode():
        hidden = model.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
        row_t = torch.tensor(rows, device=device)
        col_t = torch.tensor(cols, device=device)
        states = hidden[row_t, col_t]
        targets = ids[row_t, col_t + 1]
        head = _fp32_head(model.get_output_embeddings())
        for start in range(0, len(rows), _LOGIT_CHUNK):
            part = slice(start, start + _LOGIT_CHUNK)
            logits = head(states[part].float())
            nll = torch.nn.functional.cross_entropy(logits, targets[part], reduction="none")
            for row, value in zip(rows[part], nll.double().tolist(), strict=True):
                nll_sum[row] += value
                counts[row] += 1
    return nll_sum, counts


def _fp32_head(head: Any) -> Any:
    """The LM's output projection in float32 (itself when already float32)."""
    import torch

    if head.weight.dtype == torch.float32:
        return head
    bias = None if head.bias is None else head.bias.float()
    weight = head.weight.float()
    return lambda states: torch.nn.functional.linear(states, weight, bias)


def relatedness(
    tokenizer: Any,
    model: Any,
    instructions: Sequence[str],
    responses: Sequence[str],
    *,
    batch_size: int = 32,
    max_tokens: int = 256,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    num_threads: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Cosine similarity of instruction and response sentence embeddings, per pair.

    Embeddings follow the all-MiniLM-L6-v2 convention: mean of the token states under the
    attention mask, L2-normalized. Each text is cut to ``max_tokens`` tokens; instructions and
    responses are embedded together in length-sorted batches (``embed_texts``).
    """
    if len(instructions) != len(responses):
        raise ValueError("instructions and responses differ in length")
    embeddings = embed_texts(
        tokenizer,
        model,
        [*instructions, *responses],
        batch_size=batch_size,
        max_tokens=max_tokens,
        batch_tokens=batch_tokens,
        num_threads=num_threads,
        on_batch=on_batch,
    )
    n = len(instructions)
    return np.einsum("ij,ij->i", embeddings[:n], embeddings[n:]).astype(np.float64)


def embed_texts(
    tokenizer: Any,
    model: Any,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    max_tokens: int = 256,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    num_threads: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Mean-pooled, L2-normalized encoder embeddings, one row per text, in input order.

    Batches hold at most ``batch_size`` texts and ``batch_tokens`` padded tokens;
    ``on_batch(n)`` is called after each batch of ``n`` texts (progress).
    """
    import torch

    if not texts:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    encoded = tokenizer(list(texts), truncation=True, max_length=max_tokens)["input_ids"]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    hidden_size = model.config.hidden_size
    out = np.zeros((len(encoded), hidden_size), dtype=np.float32)
    device = next(model.parameters()).device
    with torch_threads(num_threads), torch.inference_mode():
        for batch in plan_batches([len(ids) for ids in encoded], batch_size, batch_tokens):
            ids, mask = _pad_right([encoded[i] for i in batch], pad_id)
            ids, mask = ids.to(device), mask.to(device)
            states = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
            weights = mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
            out[batch] = pooled.cpu().numpy()
            if on_batch is not None:
                on_batch(len(batch))
    return out
