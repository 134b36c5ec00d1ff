"""The local instruct LM behind the same ``complete_many`` interface as an endpoint.

:func:`left_padded_batches` is the one batched, left-padded loop over prompts that both local
generation (:class:`LocalChat`) and the logit-reading judge (``ranker.judge.LMJudge``) use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from scar_dagster.llm.types import ChatRequest, ChatResult


def left_padded_batches(
    tokenizer: Any, texts: Sequence[str], batch_size: int
) -> Iterator[tuple[list[int], Any]]:
    """Yield ``(indices, encoding)`` batches of ``texts``, left-padded, similar lengths together.

    Texts are already rendered prompts (no special tokens added). The tokenizer's
    ``padding_side`` is restored when the loop ends, however it ends.
    """
    if batch_size < 1:
        raise ValueError(f"need batch_size >= 1, got {batch_size}")
    lengths = [len(tokenizer.encode(t, add_special_tokens=False)) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            encoding = tokenizer(
                [texts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False
            )
            yield idx, encoding
    finally:
        tokenizer.padding_side = side


def render_chat(tokenizer: Any, messages: Sequence[dict[str, str]]) -> str:
    """The prompt text for ``messages`` under the tokenizer's chat template."""
    return tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)


def _stop_ids(tokenizer: Any, model: Any) -> tuple[Any, set[int]]:
    eos = tokenizer.eos_token_id
    if eos is None:
        eos = getattr(model.generation_config, "eos_token_id", None)
    return eos, set(eos if isinstance(eos, list) else [] if eos is None else [eos])


def generate_chat(
    tokenizer: Any,
    model: Any,
    conversations: Sequence[Sequence[dict[str, str]]],
    *,
    max_new_tokens: int,
    batch_size: int = 8,
    seed: int = 0,
    progress: Any | None = None,
    repetition_penalty: float = 1.0,
) -> list[tuple[str, int, bool]]:
    """Greedy replies ``(text, new_tokens, hit_token_cap)`` in input order.

    ``repetition_penalty`` is transformers' CTRL-style penalty (the logit of a token already in
    the reply is divided by it when positive, multiplied when negative); 1.0 = off. It counts the
    reply's own tokens only: penalizing the prompt as well (``generate(repetition_penalty=...)``)
    would penalize the end-of-turn token, which every chat prompt contains, and the reference's
    words, so replies would stop later and drift from the reference. A small model's greedy
    decoding often loops until the cap; a modest penalty breaks such loops.
    """
    import torch

    if max_new_tokens < 1:
        raise ValueError(f"need max_new_tokens >= 1, got {max_new_tokens}")
    if not repetition_penalty > 0:
        raise ValueError(f"need repetition_penalty > 0, got {repetition_penalty}")
    from transformers import LogitsProcessorList, RepetitionPenaltyLogitsProcessor

    torch.manual_seed(seed)
    eos, stops = _stop_ids(tokenizer, model)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(stops, default=0)
    rendered = [render_chat(tokenizer, c) for c in conversations]
    out: list[tuple[str, int, bool]] = [("", 0, False)] * len(rendered)
    for idx, enc in left_padded_batches(tokenizer, rendered, batch_size):
        prompt_length = enc["input_ids"].shape[1]  # left padding: every reply starts here
        processors = LogitsProcessorList()
        if repetition_penalty != 1.0:
            processors.append(
                RepetitionPenaltyLogitsProcessor(
                    repetition_penalty, prompt_ignore_length=prompt_length
                )
            )
        with torch.inference_mode():
            ids = model.generate(
                input_ids=enc["input_ids"].to(model.device),
                attention_mask=enc["attention_mask"].to(model.device),
                do_sample=False,
                max_new_tokens=max_new_tokens,
                logits_processor=processors,
                pad_token_id=pad,
                eos_token_id=eos,
            )
        new = ids[:, prompt_length:].cpu()
        for row, i in enumerate(idx):
            tokens = new[row].tolist()
            ended = [k for k, t in enumerate(tokens) if t in stops]
            used = ended[0] + 1 if ended else len(tokens)
            text = tokenizer.decode(new[row], skip_special_tokens=True).strip()
            out[i] = (text, used, not ended)
        if progress is not None:
            progress.advance(len(idx))
    return out


class LocalChat:
    """Greedy chat replies from a local causal LM; ``finish_reason`` is ``length`` at the cap.

    ``repetition_penalty`` (default 1.0 = off) is passed to ``generate_chat``; a value other
    than 1.0 is part of :attr:`name`, so it is recorded with every generated row.
    """

    def __init__(
        self,
        tokenizer: Any,
        model: Any,
        *,
        max_new_tokens: int = 512,
        batch_size: int = 8,
        seed: int = 0,
        name: str | None = None,
        repetition_penalty: float = 1.0,
    ) -> None:
        self.tokenizer, self.model = tokenizer, model
        self.max_new_tokens, self.batch_size, self.seed = max_new_tokens, batch_size, seed
        self.repetition_penalty = repetition_penalty
        model_name = Path(str(getattr(model.config, "_name_or_path", "") or "")).name
        penalty = "" if repetition_penalty == 1.0 else f" repetition_penalty={repetition_penalty:g}"
        self.name = f"local:{name or model_name or type(model).__name__} greedy{penalty}"

    def complete_many(
        self, requests: Sequence[ChatRequest], progress: Any | None = None
    ) -> list[ChatResult]:
        """Results in input order; requests with different caps are generated separately."""
        out: list[ChatResult | None] = [None] * len(requests)
        wanted = [r.max_tokens or self.max_new_tokens for r in requests]
        for cap in sorted(set(wanted)):
            idx = [n for n, c in enumerate(wanted) if c == cap]
            replies = generate_chat(
                self.tokenizer,
                self.model,
                [requests[n].messages for n in idx],
                max_new_tokens=cap,
                batch_size=self.batch_size,
                seed=self.seed,
                progress=progress,
                repetition_penalty=self.repetition_penalty,
            )
            for n, (text, used, hit_cap) in zip(idx, replies, strict=True):
                finish = "length" if hit_cap else "stop"
                out[n] = ChatResult(content=text, finish_reason=finish, completion_tokens=used)
        return [r for r in out if r is not None]
