"""Models for the style tests: the real MiniLM encoder and a tiny seeded causal LM.

The tiny LM (random Llama weights, the MiniLM WordPiece tokenizer with a ChatML template)
exercises every code path of the perplexity computation in milliseconds; the real
SmolLM2 conversion and its perplexities are tested in ``tests/unit/test_base_models.py``.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}"
)


@pytest.fixture(scope="module")
def encoder(one_torch_thread):
    from scar_dagster.base_models import load_encoder

    return load_encoder()


@pytest.fixture(scope="module")
def tiny_lm(one_torch_thread):
    import torch

    from tests.tiny_models import tiny_llama

    tokenizer, model = tiny_llama(
        CHATML, hidden_size=64, max_position_embeddings=1024, tie_word_embeddings=True
    )
    with torch.no_grad():  # sharper, less uniform next-token distributions than the default init
        model.get_input_embeddings().weight.normal_(0.0, 1.0)
    return tokenizer, model


@pytest.fixture()
def tiny_ppl(tiny_lm):
    """The tiny LM as perplexity uses it (a fresh forward-pass counter per test)."""
    from scar_dagster.style.surprisal_cache import PerplexityLM

    return PerplexityLM.of_loaded(*tiny_lm, identity="tiny-llama-seed0", max_tokens=128)
